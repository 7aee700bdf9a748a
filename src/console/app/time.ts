import { i18n } from './i18n.js';

/** The browser's own locale when it is of the chosen language (en-GB keeps its 24-hour clock). */
const locale = () =>
  navigator.languages.find((l) => l.split('-')[0] === i18n.language) ?? i18n.language;

/** Local date and time in the user's locale, with the zone (officers talk across time zones). */
export function formatTime(ms: number): string {
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(ms);
}

/** Time only when it is today, with the zone. */
export function formatShort(ms: number): string {
  const today = new Date().toDateString() === new Date(ms).toDateString();
  if (!today) return formatTime(ms);
  return new Intl.DateTimeFormat(locale(), {
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(ms);
}

/** `<input type="datetime-local">` value for a time, in the local zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export const fromLocalInput = (value: string): number => new Date(value).getTime();
