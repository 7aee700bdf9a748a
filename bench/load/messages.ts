// What the benchmark asks a load agent to do, and what the agent answers (over IPC).

/** Which server the agent's clients talk to: the gateway's protocol, or the plain relay. */
export type Target = 'liaison' | 'baseline';

export type AgentRequest =
  | { type: 'init'; worldFile: string }
  | {
      type: 'connect';
      target: Target;
      url: string;
      devices: string[];
      /** Record pushed envelopes and acknowledge them, as a client does. */
      receive: boolean;
      /** How many handshakes at once; the reconnect storm uses them all. */
      concurrency: number;
    }
  | { type: 'seal'; plan: { sender: string; to: string; count: number }[] }
  | { type: 'send'; mode: 'window'; window: number }
  | { type: 'send'; mode: 'rate'; perSecond: number }
  | { type: 'forget' }
  | { type: 'received' }
  | { type: 'disconnect' }
  | { type: 'catch-up'; target: Target; url: string; devices: string[] }
  | { type: 'memory' };

/** A timestamp on the machine's shared clock, in milliseconds with a fraction. */
export type Millis = number;

export type AgentReply =
  | { type: 'ready' }
  | { type: 'connected'; connected: number; refused: Record<string, number>; ms: number }
  | { type: 'sealed'; count: number; ms: number }
  | { type: 'forgotten' }
  | {
      type: 'sent';
      accepted: number;
      duplicates: number;
      refused: Record<string, number>;
      /** [envelope id, when it was emitted] for every accepted envelope. */
      sentAt: [string, Millis][];
      firstAt: Millis;
      lastAckAt: Millis;
    }
  | {
      type: 'received';
      items: [string, string, Millis][];
      /** Receiving sockets the server cut so far (each resumed from its inbox). */
      cuts: number;
    }
  | { type: 'disconnected'; count: number }
  | {
      type: 'caught-up';
      /** Envelope ids each device fetched, in order. */
      ids: Record<string, string[]>;
      refused: Record<string, number>;
      doneAt: Millis;
      fetches: number;
    }
  | { type: 'memory'; rss: number }
  | { type: 'error'; message: string };
