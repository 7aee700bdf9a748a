import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { HubFeed, loadOffices } from './feed.js';
import { initI18n, t } from './i18n.js';
import { OperatorSession } from './operator.js';
import type { ConsoleKeyFile, Office } from './sdk.js';
import { AnalystView } from './ui/analyst-view.js';
import { Header } from './ui/header.js';
import { OperatorView } from './ui/operator-view.js';
import { SignIn, type Unlocked } from './ui/signin.js';
import { useChanges, useLanguage } from './ui/use.js';
import { loadIdentity } from './vault.js';

/** Minutes without a key press or a click before the Console locks itself. */
const LOCK_AFTER_MINUTES = 15;

type Screen =
  | { name: 'loading' }
  | { name: 'signin'; identity: ConsoleKeyFile | undefined; lockedAfter?: number }
  | { name: 'operator'; session: OperatorSession }
  | { name: 'analyst'; unlocked: Unlocked; feed: HubFeed; offices: Office[] };

function OperatorScreen(props: { session: OperatorSession; language: string; onLock: () => void }) {
  const { session } = props;
  useChanges(session);
  return (
    <>
      <Header
        device={session.file.deviceId}
        connection={session.connection}
        queued={session.state.outbox.length}
        saved={session.saved}
        language={props.language}
        onLock={props.onLock}
      />
      {session.fatal ? (
        <main class="signin" id="main">
          <p class="error" role="alert">
            {t('signin.untrusted')}
          </p>
        </main>
      ) : (
        <OperatorView session={session} />
      )}
    </>
  );
}

function AnalystScreen(props: {
  feed: HubFeed;
  offices: Office[];
  device: string;
  language: string;
  onLock: () => void;
}) {
  const [online, setOnline] = useState(props.feed.connected);
  useEffect(() => {
    setOnline(props.feed.connected);
    return props.feed.on('connection', setOnline);
  }, [props.feed]);
  return (
    <>
      <Header
        device={props.device}
        connection={online ? 'online' : 'offline'}
        language={props.language}
        onLock={props.onLock}
      />
      <AnalystView feed={props.feed} offices={props.offices} />
    </>
  );
}

function App() {
  const language = useLanguage();
  const [screen, setScreen] = useState<Screen>({ name: 'loading' });

  useEffect(() => {
    loadIdentity().then(
      (identity) => setScreen({ name: 'signin', identity }),
      () => setScreen({ name: 'signin', identity: undefined }),
    );
  }, []);

  const lock = async (lockedAfter?: number) => {
    if (screen.name === 'operator') await screen.session.stop();
    if (screen.name === 'analyst') {
      screen.feed.close();
      screen.unlocked.keys.signingSecretKey.fill(0);
      screen.unlocked.keys.encryptionSecretKey.fill(0);
    }
    setScreen({ name: 'signin', identity: await loadIdentity(), lockedAfter });
  };

  // Lock after a while without activity: the keys leave memory, the passphrase brings them back.
  useEffect(() => {
    if (screen.name !== 'operator' && screen.name !== 'analyst') return;
    let last = Date.now();
    const touch = () => {
      last = Date.now();
    };
    const events = ['pointerdown', 'keydown', 'wheel', 'touchstart'];
    for (const e of events) window.addEventListener(e, touch, { passive: true });
    const timer = setInterval(() => {
      if (Date.now() - last > LOCK_AFTER_MINUTES * 60_000) void lock(LOCK_AFTER_MINUTES);
    }, 15_000);
    return () => {
      clearInterval(timer);
      for (const e of events) window.removeEventListener(e, touch);
    };
  }, [screen]);

  const unlocked = async (u: Unlocked) => {
    if (u.file.role === 'analyst') {
      const feed = new HubFeed(u.file, u.keys);
      feed.connect();
      const offices = await loadOffices(u.file, u.keys, location.origin).catch(() => []);
      setScreen({ name: 'analyst', unlocked: u, feed, offices });
      return;
    }
    const session = new OperatorSession(u.file, u.keys, u.vaultKey, location.origin);
    await session.start();
    setScreen({ name: 'operator', session });
  };

  if (screen.name === 'loading') return <Header language={language} />;
  if (screen.name === 'signin')
    return (
      <>
        <Header language={language} />
        <SignIn
          identity={screen.identity}
          lockedAfter={screen.lockedAfter}
          onUnlocked={(u) => void unlocked(u)}
          onForget={() => setScreen({ name: 'signin', identity: undefined })}
        />
      </>
    );
  if (screen.name === 'operator')
    return (
      <OperatorScreen session={screen.session} language={language} onLock={() => void lock()} />
    );
  return (
    <AnalystScreen
      feed={screen.feed}
      offices={screen.offices}
      device={screen.unlocked.file.deviceId}
      language={language}
      onLock={() => void lock()}
    />
  );
}

await initI18n();
const root = document.getElementById('app') as HTMLElement;
root.textContent = '';
render(<App />, root);

// A reload on a weak link comes from the cache (the service worker), not the network.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => undefined);
}
