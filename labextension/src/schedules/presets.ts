/**
 * The cron helper's presets and the choices of the schedule form (pure: no DOM, no server).
 */

/** A cron expression the form offers with one click. */
export interface CronPreset {
  readonly label: string;
  readonly cron: string;
}

export const CRON_PRESETS: readonly CronPreset[] = [
  { label: 'Every hour', cron: '0 * * * *' },
  { label: 'Every day at 06:00', cron: '0 6 * * *' },
  { label: '1st of month at 06:00', cron: '0 6 1 * *' },
  { label: 'Weekdays at 09:00', cron: '0 9 * * 1-5' }
];

/** The preset an expression is (spaces do not count), or null. */
export function presetOf(cron: string): CronPreset | null {
  const normal = normalCron(cron);
  return CRON_PRESETS.find(p => p.cron === normal) ?? null;
}

/** An expression with its fields separated by one space, without leading or trailing space. */
export function normalCron(cron: string): string {
  return cron.trim().split(/\s+/).join(' ');
}

/** What a schedule does with the fires it missed while no scheduler ran. */
export type CatchUp = 'skip' | 'latest' | 'all';

export const CATCH_UP_CHOICES: readonly { value: CatchUp; label: string }[] = [
  { value: 'skip', label: 'Skip them' },
  { value: 'latest', label: 'Run the latest once' },
  { value: 'all', label: 'Run each (up to a bound)' }
];

/** The browser's IANA time zone (the form's default), `UTC` when it cannot tell. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Whether the browser knows `zone` as a time zone (IANA names, `UTC`); the panel reads times in it. */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
