import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { ConsoleKeyFile, type DeviceKeys, openConsoleKey, WrongPassphrase } from '../sdk.js';
import { forgetAll, saveIdentity } from '../vault.js';

export interface Unlocked {
  file: ConsoleKeyFile;
  keys: DeviceKeys;
  vaultKey: Uint8Array;
}

/**
 * Sign-in: the first time, import the key file and type its passphrase; afterwards the browser
 * holds the (still sealed) key file and only asks for the passphrase.
 */
export function SignIn(props: {
  identity: ConsoleKeyFile | undefined;
  lockedAfter?: number | undefined;
  onUnlocked: (unlocked: Unlocked) => void;
  onForget: () => void;
}) {
  const [passphrase, setPassphrase] = useState('');
  const [chosen, setChosen] = useState<File | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [working, setWorking] = useState(false);
  const identity = props.identity;

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    let file = identity;
    if (!file) {
      if (!chosen) return setError('signin.noFile');
      let parsed: ConsoleKeyFile | undefined;
      try {
        parsed = ConsoleKeyFile.parse(JSON.parse(await chosen.text()));
      } catch {
        parsed = undefined;
      }
      if (!parsed) return setError('signin.badFile');
      file = parsed;
    }
    setWorking(true);
    try {
      const { keys, vaultKey } = await openConsoleKey(file, passphrase);
      if (!identity) await saveIdentity(file);
      setPassphrase('');
      props.onUnlocked({ file, keys, vaultKey });
    } catch (e) {
      setError(e instanceof WrongPassphrase ? 'signin.wrongPassphrase' : 'signin.badFile');
    } finally {
      setWorking(false);
    }
  };

  const forget = async () => {
    if (!window.confirm(t('signin.forgetConfirm'))) return;
    await forgetAll();
    props.onForget();
  };

  return (
    <main class="signin" id="main">
      <form class="card" onSubmit={submit} data-testid="signin">
        <h2>
          {identity
            ? t('signin.unlockTitle', { device: identity.deviceId })
            : t('signin.importTitle')}
        </h2>
        {props.lockedAfter !== undefined && (
          <p class="notice">{t('signin.locked', { minutes: props.lockedAfter })}</p>
        )}
        <p>{identity ? t('signin.unlockHelp') : t('signin.importHelp')}</p>
        {!identity && (
          <label class="field">
            <span>{t('signin.keyFile')}</span>
            <input
              type="file"
              name="keyfile"
              accept=".key,.json,application/json"
              onChange={(e) => setChosen((e.target as HTMLInputElement).files?.[0])}
            />
          </label>
        )}
        <label class="field">
          <span>{t('signin.passphrase')}</span>
          <input
            type="password"
            name="passphrase"
            autocomplete="current-password"
            value={passphrase}
            onInput={(e) => setPassphrase((e.target as HTMLInputElement).value)}
          />
        </label>
        {error && (
          <p class="error" role="alert" data-testid="signin-error">
            {t(error)}
          </p>
        )}
        <button type="submit" class="primary" disabled={working}>
          {working ? t('signin.working') : identity ? t('signin.unlock') : t('signin.signIn')}
        </button>
        {identity && (
          <button type="button" class="link" onClick={() => void forget()}>
            {t('signin.forget')}
          </button>
        )}
      </form>
    </main>
  );
}
