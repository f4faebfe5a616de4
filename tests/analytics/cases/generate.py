#!/usr/bin/env python3
"""Writes the labelled metric series the anomaly and forecast tests read (*.csv here).

Deterministic (fixed seeds): run it again and the files come out the same. Each file:
  # metric: <name>            response_time | error_rate | throughput | session_duration | token_usage
  # period: <buckets>         season length (1440 one-minute buckets = a day), 0 for none
  # direction: both|above|below   which deviations matter for this metric
  # anomalies: start-end:kind,...  the injected anomalies (bucket indexes, inclusive)
  index,value,label           label 1 inside an injected anomaly
For a level shift only its first 5 buckets are labelled: the detector must notice the onset;
after that the new level is the normal one.
"""
import math
import os
import random

OUT = os.path.dirname(os.path.abspath(__file__))


def poisson(rng, lam):
    if lam < 50:
        l, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= l:
                return k
            k += 1
    return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))


def season(t, period, amplitude):
    return 1.0 + amplitude * math.sin(2 * math.pi * t / period) if period else 1.0


def place(rng, n, count, first, spacing, max_len):
    """Non-overlapping anomaly starts after `first`, at least `spacing` apart."""
    starts = []
    tries = 0
    while len(starts) < count and tries < 10000:
        tries += 1
        s = rng.randrange(first, n - max_len - 5)
        if all(abs(s - o) >= spacing for o in starts):
            starts.append(s)
    return sorted(starts)


def make_case(name, metric, seed, n, period, direction, kinds, base_fn, apply_fn):
    rng = random.Random(seed)
    first = 2 * period + 180 if period else 120
    starts = place(rng, n, len(kinds), first, 90, 12)
    shifts = []  # (start, factor) for level shifts, applied to every later bucket
    spikes = []
    for s, kind in zip(starts, kinds):
        if kind == 'level_shift':
            shifts.append((s, kind))
        else:
            spikes.append((s, s + rng.randrange(0, 3), kind))
    # At most one level shift, and it is the last anomaly, so the rest are judged on one level.
    values, labels = [], []
    shift_at = shifts[0][0] if shifts else None
    for t in range(n):
        shifted = shift_at is not None and t >= shift_at
        values.append(base_fn(rng, t, period, shifted))
        labels.append(0)
    spans = []
    for s, e, kind in spikes:
        for t in range(s, e + 1):
            values[t] = apply_fn(rng, t, period, kind, values[t])
            labels[t] = 1
        spans.append((s, e, kind))
    if shift_at is not None:
        for t in range(shift_at, shift_at + 5):
            labels[t] = 1
        spans.append((shift_at, shift_at + 4, 'level_shift'))
    spans.sort()
    with open(os.path.join(OUT, name + '.csv'), 'w') as f:
        f.write(f'# metric: {metric}\n# period: {period}\n# direction: {direction}\n')
        f.write('# anomalies: ' + ','.join(f'{s}-{e}:{k}' for s, e, k in spans) + '\n')
        f.write('index,value,label\n')
        for t, (v, l) in enumerate(zip(values, labels)):
            f.write(f'{t},{v:.4f},{l}\n')


def response_time(seasonal):
    def base(rng, t, period, shifted):
        level = 900.0 * (1.8 if shifted else 1.0) * season(t, period, 0.3 if seasonal else 0)
        return level * math.exp(rng.gauss(0, 0.10))

    def apply(rng, t, period, kind, v):
        return v * rng.uniform(3.0, 5.0)
    return base, apply


def error_rate():
    def base(rng, t, period, shifted):
        n = poisson(rng, 200)
        p = 0.08 if shifted else 0.02
        errors = sum(1 for _ in range(n) if rng.random() < p)
        return 100.0 * errors / max(n, 1)

    def apply(rng, t, period, kind, v):
        n = poisson(rng, 200)
        p = rng.uniform(0.15, 0.3)
        return 100.0 * sum(1 for _ in range(n) if rng.random() < p) / max(n, 1)
    return base, apply


def throughput(seasonal):
    def base(rng, t, period, shifted):
        lam = 150.0 * (0.5 if shifted else 1.0) * season(t, period, 0.5 if seasonal else 0)
        return float(poisson(rng, lam))

    def apply(rng, t, period, kind, v):
        lam = 150.0 * season(t, period, 0.5 if seasonal else 0)
        if kind == 'drop':
            return float(poisson(rng, lam * rng.uniform(0.0, 0.15)))
        return float(poisson(rng, lam * rng.uniform(2.5, 3.5)))
    return base, apply


def session_duration():
    def base(rng, t, period, shifted):
        return 120000.0 * (2.0 if shifted else 1.0) * math.exp(rng.gauss(0, 0.12))

    def apply(rng, t, period, kind, v):
        return v * rng.uniform(3.0, 4.5)
    return base, apply


def token_usage(seasonal):
    def base(rng, t, period, shifted):
        level = 40000.0 * (1.7 if shifted else 1.0) * season(t, period, 0.4 if seasonal else 0)
        return level * math.exp(rng.gauss(0, 0.08))

    def apply(rng, t, period, kind, v):
        return v * rng.uniform(3.0, 5.0)
    return base, apply


def main():
    day = 1440
    cases = [
        ('response_time_spikes', 'response_time', 11, 720, 0, 'both', ['spike'] * 5,
         *response_time(False)),
        ('response_time_shift', 'response_time', 12, 720, 0, 'both', ['spike'] * 3 + ['level_shift'],
         *response_time(False)),
        ('response_time_seasonal', 'response_time', 13, 3 * day, day, 'both', ['spike'] * 5,
         *response_time(True)),
        ('error_rate_spikes', 'error_rate', 21, 720, 0, 'above', ['spike'] * 5, *error_rate()),
        ('error_rate_shift', 'error_rate', 22, 720, 0, 'above', ['spike'] * 3 + ['level_shift'],
         *error_rate()),
        ('throughput_drops', 'throughput', 31, 720, 0, 'both', ['drop'] * 4 + ['spike'],
         *throughput(False)),
        ('throughput_seasonal', 'throughput', 32, 3 * day, day, 'both',
         ['drop'] * 3 + ['spike'] * 2, *throughput(True)),
        ('throughput_shift', 'throughput', 33, 720, 0, 'both', ['drop'] * 2 + ['level_shift'],
         *throughput(False)),
        ('session_duration_spikes', 'session_duration', 41, 720, 0, 'both', ['spike'] * 5,
         *session_duration()),
        ('session_duration_shift', 'session_duration', 42, 720, 0, 'both',
         ['spike'] * 3 + ['level_shift'], *session_duration()),
        ('token_usage_spikes', 'token_usage', 51, 720, 0, 'both', ['spike'] * 5,
         *token_usage(False)),
        ('token_usage_seasonal', 'token_usage', 52, 3 * day, day, 'both', ['spike'] * 4,
         *token_usage(True)),
    ]
    for name, metric, seed, n, period, direction, kinds, base, apply in cases:
        make_case(name, metric, seed, n, period, direction, kinds, base, apply)


if __name__ == '__main__':
    main()
