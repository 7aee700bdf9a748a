import type { Logger } from 'pino';
import { useNativeCrypto } from '../crypto/native-backend.js';

/**
 * A server runs on native libsodium (verify, hash and open cost about a third of WebAssembly's);
 * where sodium-native cannot load it keeps running on WebAssembly and says so once.
 */
export function startOnNativeCrypto(logger: Logger): void {
  const choice = useNativeCrypto();
  if (choice.reason) {
    logger.warn(
      { crypto: choice.name, reason: choice.reason },
      'sodium-native did not load; slower WebAssembly crypto in use',
    );
  } else {
    logger.debug({ crypto: choice.name }, 'crypto backend');
  }
}
