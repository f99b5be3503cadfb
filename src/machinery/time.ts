// metav1.Time and MicroTime wire formats: RFC 3339 in UTC, seconds (Time) or microseconds (MicroTime).

export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}
