// metav1.Time and MicroTime wire formats: RFC 3339 in UTC, seconds (Time) or microseconds (MicroTime).

// Every object written in the same second carries the same text: keep the last one.
let lastSecond = NaN;
let lastText = '';

export function formatTime(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second === lastSecond) return lastText;
  // toISOString always ends in ".sssZ"; an invalid date throws as before.
  const text = d.toISOString().slice(0, -5) + 'Z';
  lastSecond = second;
  lastText = text;
  return text;
}

/** A UTC day as upstream writes dates in labels and ConfigMaps (Go's "2006-01-02"). */
export function formatDate(d: Date | number): string {
  return new Date(d).toISOString().slice(0, 10);
}

export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}
