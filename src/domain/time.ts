/**
 * Times that come from peers (commit dates, marker mtimes, location logs) are numbers anyone can
 * write. Past about year 275760 a JavaScript Date is invalid and `toISOString` throws; past 2^53 a
 * number no longer prints as the integer it was. Every time taken from outside goes through here.
 */

/** 9999-12-31T23:59:59.999Z: the last millisecond that prints as a four-digit year. */
export const MAX_TIME_MS = 253402300799999

/** Whether `t` (milliseconds) is a time this host can store, print and compare. */
export const isSaneTime = (t: number): boolean => Number.isFinite(t) && Math.abs(t) <= MAX_TIME_MS

/** `t` when it is sane, else `fallback`. */
export const saneTime = (t: number, fallback: number): number => (isSaneTime(t) ? t : fallback)
