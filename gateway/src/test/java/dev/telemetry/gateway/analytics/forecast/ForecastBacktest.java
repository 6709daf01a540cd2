package dev.telemetry.gateway.analytics.forecast;

import dev.telemetry.gateway.connector.genai.CostProjectionBacktest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Back-tests of the forecasts on seeded synthetic trends (docs/anomaly.md prints {@link #main}'s tables): queue disk
 * full (a backend outage fills a persistent queue at a seasonal, noisy ingest rate; {@link Trend} over the last 15
 * minutes, sampled every 30 s, against the simulated time the disk actually fills), error budget exhaustion (minute
 * error ratios burning 1–20× the sustainable rate with a daily pattern and noise; {@link Exhaustion} at the last
 * hour's burn against the minute the budget is actually gone), and the GenAI month-end cost
 * ({@link CostProjectionBacktest}). Errors are absolute percentage errors, bucketed by the true horizon.
 */
public final class ForecastBacktest {
  /** Horizon buckets in seconds: (lower, upper]. */
  static final double[][] BUCKETS = {{0, 900}, {900, 3600}, {3600, 4 * 3600}, {4 * 3600, 24 * 3600},
      {24 * 3600, 30 * 86400}};
  static final String[] NAMES = {"≤ 15 min", "15 min – 1 h", "1 – 4 h", "4 – 24 h", "1 – 30 days"};

  private ForecastBacktest() {
  }

  /** Per bucket: the errors of all forecasts whose true horizon falls in it. */
  public static List<List<Double>> queueDisk(long seed, int runs) {
    List<List<Double>> out = buckets();
    for (int run = 0; run < runs; run++) {
      SplittableRandom r = new SplittableRandom(seed * 31 + run);
      double capacity = (1 + 9 * r.nextDouble()) * (1L << 30); // 1–10 GiB
      double rate = capacity / ((0.5 + 5.5 * r.nextDouble()) * 3600); // fills in 0.5–6 h at the mean rate
      double phase = r.nextDouble() * 2 * Math.PI;
      int steps = 0;
      List<double[]> samples = new ArrayList<>(); // {seconds, used}
      double used = 0;
      while (used < capacity && steps < 100_000) {
        double t = steps * 30.0;
        double seasonal = 1 + 0.3 * Math.sin(2 * Math.PI * t / 86400 + phase);
        used += rate * seasonal * Math.exp(0.1 * CostProjectionBacktestAccess.gaussian(r)) * 30;
        samples.add(new double[] {t + 30, Math.min(used, capacity)});
        steps++;
      }
      double fullAt = samples.get(samples.size() - 1)[0];
      Trend trend = new Trend(15 * 60_000L);
      for (double[] s : samples) {
        trend.add((long) (s[0] * 1000), s[1]);
        if (trend.spanMillis() < 7.5 * 60_000 || s[1] >= capacity) {
          continue;
        }
        double predicted = trend.secondsUntil(capacity - s[1]);
        double actual = fullAt - s[0];
        add(out, actual, Math.abs(predicted - actual) / actual);
      }
    }
    return out;
  }

  /** Burn-rate windows compared for the exhaustion forecast, in minutes (the gateway uses the first). */
  static final int[] BURN_WINDOWS = {60, 360, 1440, -1};

  /**
   * Per burn-rate window and bucket: the errors of the exhaustion forecasts (checked every 10 minutes, once a day of
   * minutes is known so that every window is whole).
   */
  public static List<List<List<Double>>> budgetExhaustion(long seed, int runs) {
    List<List<List<Double>>> out = new ArrayList<>();
    for (int w = 0; w < BURN_WINDOWS.length; w++) {
      out.add(buckets());
    }
    // The last column: the gateway's choice (Exhaustion with the hour's and the day's burn).
    double window = 30 * 86400;
    for (int run = 0; run < runs; run++) {
      SplittableRandom r = new SplittableRandom(seed * 131 + run);
      double objective = 0.999;
      double budget = 1 - objective;
      double burn = 1 + 19 * r.nextDouble();
      double startRemaining = 0.2 + 0.8 * r.nextDouble();
      double perMinute = 1000;
      // Bad events of the window so far (as a share of its budget) and the minutes that follow.
      double badAllowed = budget * perMinute * window / 60;
      double bad = (1 - startRemaining) * badAllowed;
      double total = perMinute * window / 60; // a steady service: the window's total is known
      double phase = r.nextDouble() * 2 * Math.PI;
      int horizon = (int) Math.min(window / 60, startRemaining * window / burn / 60 * 3 + 2000);
      double[] ratios = new double[horizon];
      for (int m = 0; m < horizon; m++) {
        double daily = 1 + 0.5 * Math.sin(2 * Math.PI * m / 1440 + phase);
        ratios[m] = Math.max(0, budget * burn * daily * Math.exp(0.3 * CostProjectionBacktestAccess.gaussian(r)));
      }
      // The minute it is gone (the window's old minutes are assumed clean, so nothing leaves it).
      double cumulative = bad;
      int goneAt = -1;
      for (int m = 0; m < horizon; m++) {
        cumulative += ratios[m] * perMinute;
        if (cumulative >= badAllowed) {
          goneAt = m;
          break;
        }
      }
      if (goneAt < 0) {
        continue;
      }
      double spent = bad;
      for (int m = 0; m < goneAt; m++) {
        spent += ratios[m] * perMinute;
        if (m < 1440 || m % 10 != 0) {
          continue;
        }
        double remaining = 1 - spent / total / budget;
        double actual = (goneAt - m) * 60.0;
        double[] burns = new double[BURN_WINDOWS.length - 1];
        for (int w = 0; w < burns.length; w++) {
          double windowBad = 0;
          for (int k = m - BURN_WINDOWS[w] + 1; k <= m; k++) {
            windowBad += ratios[k];
          }
          burns[w] = windowBad / BURN_WINDOWS[w] / budget;
          double predicted = Exhaustion.secondsLeft(remaining, window, burns[w]);
          add(out.get(w), actual, Math.abs(predicted - actual) / actual);
        }
        double chosen = Exhaustion.secondsLeft(remaining, window, burns[0], burns[2]);
        add(out.get(burns.length), actual, Math.abs(chosen - actual) / actual);
      }
    }
    return out;
  }

  private static List<List<Double>> buckets() {
    List<List<Double>> out = new ArrayList<>();
    for (int i = 0; i < BUCKETS.length; i++) {
      out.add(new ArrayList<>());
    }
    return out;
  }

  private static void add(List<List<Double>> out, double actual, double error) {
    for (int i = 0; i < BUCKETS.length; i++) {
      if (actual > BUCKETS[i][0] && actual <= BUCKETS[i][1]) {
        out.get(i).add(error);
      }
    }
  }

  static double quantile(List<Double> v, double q) {
    if (v.isEmpty()) {
      return Double.NaN;
    }
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    return s.get(Math.min(s.size() - 1, (int) Math.floor(q * s.size())));
  }

  static String burnTable(List<List<List<Double>>> errors) {
    StringBuilder b = new StringBuilder("| true horizon | forecasts | 1 h burn: median / p90 error | 6 h burn | 1 d burn "
        + "| in use: 1 h burn under 4 h, else 1 d |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < BUCKETS.length; i++) {
      if (errors.get(0).get(i).isEmpty()) {
        continue;
      }
      b.append("| ").append(NAMES[i]).append(" | ").append(errors.get(0).get(i).size());
      for (List<List<Double>> w : errors) {
        b.append(String.format(java.util.Locale.ROOT, " | %.1f %% / %.1f %%", 100 * quantile(w.get(i), 0.5),
            100 * quantile(w.get(i), 0.9)));
      }
      b.append(" |\n");
    }
    return b.toString();
  }

  static String table(String title, List<List<Double>> errors) {
    StringBuilder b = new StringBuilder("| true horizon | forecasts | median error | p90 error |\n"
        + "|---|---|---|---|\n");
    for (int i = 0; i < BUCKETS.length; i++) {
      List<Double> e = errors.get(i);
      if (!e.isEmpty()) {
        b.append(String.format(java.util.Locale.ROOT, "| %s | %d | %.1f %% | %.1f %% |%n", NAMES[i], e.size(),
            100 * quantile(e, 0.5), 100 * quantile(e, 0.9)));
      }
    }
    return b.toString();
  }

  public static void main(String[] args) {
    long seed = args.length > 0 ? Long.parseLong(args[0]) : 20261202L;
    System.out.println("## Queue disk full (seed " + seed + ", 200 outages)\n\n" + table("", queueDisk(seed, 200)));
    System.out.println("## Error budget exhaustion (seed " + seed + ", 200 burns)\n\n"
        + burnTable(budgetExhaustion(seed, 200)));
    System.out.println("## GenAI month-end cost (seed " + seed + ", 200 series-months)\n\n"
        + String.join("\n", CostProjectionBacktest.table(CostProjectionBacktest.run(seed, 200))));
  }

  /** The shared noise source. */
  static final class CostProjectionBacktestAccess {
    static double gaussian(SplittableRandom r) {
      double u = Math.max(1e-12, r.nextDouble());
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }
  }
}
