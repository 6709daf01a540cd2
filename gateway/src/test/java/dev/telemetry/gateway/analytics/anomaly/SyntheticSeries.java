package dev.telemetry.gateway.analytics.anomaly;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The anomaly benchmark's data: seeded synthetic RED-like series at a 5-minute step with daily and weekly seasonality
 * and noise, some left clean and some with labelled injected anomalies of one kind each (spikes, level shifts, slow
 * drifts, holidays). The same seed gives the same series, so the benchmark's figures can be reproduced exactly.
 */
public final class SyntheticSeries {
  public static final long STEP_MS = 300_000;
  public static final int STEPS_PER_DAY = 288;
  /** 2026-01-05, a Monday, 00:00 UTC. */
  public static final long START_STEP = 1_767_571_200_000L / STEP_MS;
  public static final int DAYS = 35;
  /** Days of warm-up before anything is injected or scored. */
  public static final int WARMUP_DAYS = 14;

  public enum Metric { RATE, LATENCY, ERROR_RATIO, COST }

  public enum Kind { CLEAN, SPIKE, LEVEL_SHIFT, DRIFT, HOLIDAY }

  /** An injected anomaly over steps [start, end) (indices into the series). */
  public record Event(Kind kind, int start, int end) {
  }

  /** One series: values, the events behind each value's volume (NaN for rates and costs), and its labels. */
  public record Series(String name, Metric metric, Kind kind, double[] values, double[] volume, List<Event> events) {
    public Transform transform() {
      return switch (metric) {
        case RATE -> Transform.COUNT;
        case ERROR_RATIO -> Transform.LINEAR;
        case LATENCY, COST -> Transform.LOG;
      };
    }
  }

  private SyntheticSeries() {
  }

  /** {@code perKind} injected series for each kind and metric it applies to, and {@code clean} clean ones per metric. */
  public static List<Series> generate(long seed, int perKind, int clean) {
    List<Series> out = new ArrayList<>();
    int n = 0;
    for (Metric m : Metric.values()) {
      for (Kind k : Kind.values()) {
        if (k == Kind.HOLIDAY && (m == Metric.LATENCY || m == Metric.ERROR_RATIO)) {
          continue; // a holiday changes how much traffic there is, not how it is served
        }
        int count = k == Kind.CLEAN ? clean : perKind;
        for (int i = 0; i < count; i++) {
          out.add(series(new SplittableRandom(seed * 1_000_003L + n++), m, k, m + "-" + k + "-" + i));
        }
      }
    }
    return out;
  }

  static Series series(SplittableRandom r, Metric metric, Kind kind, String name) {
    int steps = DAYS * STEPS_PER_DAY;
    double base = Math.exp(uniform(r, Math.log(20), Math.log(3000)));
    double amplitude = uniform(r, 0.3, 0.8);
    double weekend = uniform(r, 0.4, 0.9);
    double noise = uniform(r, 0.02, 0.08);
    double latencyBase = uniform(r, 20, 800);
    double latencyNoise = uniform(r, 0.05, 0.12);
    double errorBase = uniform(r, 0.002, 0.02);
    double peakHour = uniform(r, 10, 18);
    // Real traffic grows or shrinks a little every week and no two days are quite alike.
    double growthPerWeek = uniform(r, -0.05, 0.10);
    double[] dayLevel = new double[DAYS];
    for (int d = 0; d < DAYS; d++) {
      dayLevel[d] = 0.04 * gaussian(r);
    }
    List<Event> events = kind == Kind.CLEAN ? List.of() : events(r, kind);
    // Per step: multiplicative effect on the metric (log space), additive error ratio, and the holiday flag.
    double[] effect = new double[steps];
    double[] errorAdd = new double[steps];
    boolean[] holiday = new boolean[steps];
    for (Event e : events) {
      double sign = r.nextBoolean() ? 1 : -1;
      double size = switch (kind) {
        case SPIKE -> switch (metric) {
          case RATE -> sign > 0 ? Math.log(uniform(r, 2.5, 5)) : Math.log(uniform(r, 0.05, 0.3));
          case LATENCY -> Math.log(uniform(r, 2, 4));
          case ERROR_RATIO -> uniform(r, 0.05, 0.25);
          case COST -> Math.log(uniform(r, 3, 6));
        };
        case LEVEL_SHIFT -> switch (metric) {
          case RATE -> sign > 0 ? Math.log(uniform(r, 1.7, 3)) : Math.log(uniform(r, 0.25, 0.55));
          case LATENCY -> Math.log(uniform(r, 1.6, 2.5));
          case ERROR_RATIO -> uniform(r, 0.03, 0.1);
          case COST -> Math.log(uniform(r, 2, 3));
        };
        case DRIFT -> metric == Metric.ERROR_RATIO ? uniform(r, 0.03, 0.08) : Math.log(uniform(r, 1.6, 2.5));
        default -> 0;
      };
      for (int t = e.start(); t < e.end(); t++) {
        if (kind == Kind.HOLIDAY) {
          holiday[t] = true;
          continue;
        }
        double f = size;
        if (kind == Kind.DRIFT) {
          // A ramp over all but the last 12 hours, then a hold at the top.
          int ramp = e.end() - e.start() - 144;
          f = size * Math.min(1.0, (t - e.start() + 1) / (double) ramp);
        }
        if (metric == Metric.ERROR_RATIO) {
          errorAdd[t] += f;
        } else {
          effect[t] += f;
        }
      }
    }
    double[] values = new double[steps];
    double[] volume = new double[steps];
    for (int t = 0; t < steps; t++) {
      long step = START_STEP + t;
      double hour = (t % STEPS_PER_DAY) / 12.0;
      double daily = 1 + amplitude * Math.cos((hour - peakHour) / 24 * 2 * Math.PI);
      boolean weekendDay = SeasonalMedianBaseline.weekend(step, STEP_MS) || holiday[t];
      double load = daily * (weekendDay ? weekend : 1);
      double organic = growthPerWeek * t / (7.0 * STEPS_PER_DAY) + dayLevel[t / STEPS_PER_DAY];
      double lambda = base * load * Math.exp(noise * gaussian(r) + organic);
      switch (metric) {
        case RATE -> {
          values[t] = poisson(r, lambda * Math.exp(effect[t]));
          volume[t] = Double.NaN;
        }
        case COST -> {
          // Tokens cost in bursts: a heavier-tailed noise than request counts.
          values[t] = poisson(r, lambda) * 0.002 * Math.exp(0.15 * gaussian(r) + effect[t]);
          volume[t] = Double.NaN;
        }
        case LATENCY -> {
          double calls = poisson(r, lambda);
          values[t] = latencyBase * (1 + 0.15 * (load - 1))
              * Math.exp(latencyNoise * gaussian(r) + dayLevel[t / STEPS_PER_DAY] / 2 + effect[t]);
          volume[t] = calls;
        }
        case ERROR_RATIO -> {
          double calls = poisson(r, lambda);
          double p = Math.min(1, errorBase * Math.exp(2 * dayLevel[t / STEPS_PER_DAY]) + errorAdd[t]);
          double errors = binomial(r, calls, p);
          values[t] = calls > 0 ? errors / calls : Double.NaN;
          volume[t] = calls;
        }
      }
    }
    return new Series(name, metric, kind, values, volume, events);
  }

  /** Non-overlapping events of one kind in the scored days, spaced apart. */
  private static List<Event> events(SplittableRandom r, Kind kind) {
    List<Event> out = new ArrayList<>();
    int first = WARMUP_DAYS * STEPS_PER_DAY;
    int end = DAYS * STEPS_PER_DAY;
    int count = switch (kind) {
      case SPIKE -> 6;
      case LEVEL_SHIFT -> 4;
      case DRIFT, HOLIDAY -> 2;
      default -> 0;
    };
    int attempts = 0;
    while (out.size() < count && attempts++ < 1000) {
      int start;
      int length;
      switch (kind) {
        case SPIKE -> {
          start = first + r.nextInt(end - first - 10);
          length = 1 + r.nextInt(3);
        }
        case LEVEL_SHIFT -> {
          length = 72 + r.nextInt(48 * 12 - 72);
          start = first + r.nextInt(end - first - length);
        }
        case DRIFT -> {
          length = 24 * 12 + r.nextInt(48 * 12) + 144;
          start = first + r.nextInt(end - first - length);
        }
        case HOLIDAY -> {
          int day = WARMUP_DAYS + r.nextInt(DAYS - WARMUP_DAYS);
          if (SeasonalMedianBaseline.weekend(START_STEP + (long) day * STEPS_PER_DAY, STEP_MS)) {
            continue;
          }
          start = day * STEPS_PER_DAY;
          length = STEPS_PER_DAY;
        }
        default -> throw new IllegalStateException();
      }
      // Apart from each other by at least a day after the end (the series is normal again before the next one).
      int gap = kind == Kind.SPIKE ? 144 : STEPS_PER_DAY * 2;
      boolean clear = true;
      for (Event e : out) {
        if (start < e.end() + gap && e.start() < start + length + gap) {
          clear = false;
        }
      }
      if (clear) {
        out.add(new Event(kind, start, start + length));
      }
    }
    out.sort(java.util.Comparator.comparingInt(Event::start));
    return out;
  }

  static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  static double gaussian(SplittableRandom r) {
    double u = Math.max(1e-12, r.nextDouble());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
  }

  static double poisson(SplittableRandom r, double lambda) {
    if (lambda > 50) {
      return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(r)));
    }
    double l = Math.exp(-lambda);
    int k = 0;
    double p = 1;
    do {
      k++;
      p *= r.nextDouble();
    } while (p > l);
    return k - 1;
  }

  static double binomial(SplittableRandom r, double n, double p) {
    double mean = n * p;
    if (n > 100) {
      return Math.max(0, Math.min(n, Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(r))));
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
      if (r.nextDouble() < p) {
        k++;
      }
    }
    return k;
  }
}
