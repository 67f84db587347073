/**
 * How the Schedules panel words times and fires (pure: no DOM, no server).
 */

/**
 * A fire time as read in the schedule's zone: `Mon, 7 Dec 2026, 06:00 CET`. The locale is the
 * browser's unless given; an unreadable time is returned as it came, an unknown zone reads in UTC.
 */
export function formatFireTime(iso: string | null | undefined, timeZone: string, locale?: string): string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short'
  };
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' }).format(date);
  }
}

/** How far a time is from now, in words: `in 5 min`, `in 3 h`, `in 2 days`, `4 min ago`. */
export function relativeTime(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const seconds = Math.round((ms - nowMs) / 1000);
  const size = Math.abs(seconds);
  let amount: string;
  if (size < 60) amount = `${size} s`;
  else if (size < 3600) amount = `${Math.round(size / 60)} min`;
  else if (size < 2 * 86400) amount = `${Math.round(size / 3600)} h`;
  else amount = `${Math.round(size / 86400)} days`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

/**
 * When a schedule last fired: the later of the time it says and the newest of its fires read
 * (a fire made by Run now is a fire too, and its run's status is the schedule's last status).
 */
export function lastFireAt(lastFire: string | null, fires: readonly { fired_at: string }[] | undefined): string | null {
  const newest = fires?.[0]?.fired_at ?? null;
  if (lastFire === null || newest === null) return lastFire ?? newest;
  return Date.parse(newest) > Date.parse(lastFire) ? newest : lastFire;
}

/** A schedule's workflow as the list names it: the file name without its folder and `.workflow.json`. */
export function workflowLabel(path: string): string {
  const base = path.replace(/\\/g, '/').split('/').pop() ?? path;
  return base.replace(/\.json$/, '').replace(/\.workflow$/, '') || path;
}
