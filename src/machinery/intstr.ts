// IntOrString values as apimachinery's intstr package scales them (maxUnavailable, maxSurge: "25%" or 1).

/** GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down; throws on anything else. */
export function scaledValueFromIntOrPercent(value: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) throw new Error('nil value for IntOrString');
  if (typeof value === 'number') return Math.trunc(value);
  if (!value.endsWith('%')) throw new Error('invalid type: string is not a percentage');
  const digits = value.slice(0, -1);
  if (!/^[+-]?\d+$/.test(digits)) throw new Error(`invalid value "${value}": strconv.Atoi: parsing "${digits}": invalid syntax`);
  const scaled = (Number(digits) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
