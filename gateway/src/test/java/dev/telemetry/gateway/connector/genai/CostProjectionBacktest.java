package dev.telemetry.gateway.connector.genai;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Back-test of the month-end cost projection on seeded synthetic cost trends: hourly GenAI spend with a business-day
 * shape, quieter weekends, a growth trend (−10 % to +30 % over the month), noise and occasional heavy days. At the end
 * of chosen days of the month each projection (the {@link CostLedger}'s: month-to-date plus the last week's hourly
 * rate over the hours left; and, for comparison, the month-to-date average rate) is compared with the month's
 * actual total.
 */
public final class CostProjectionBacktest {
  public static final int[] DAYS = {3, 7, 14, 21, 28};

  /** Absolute percentage errors per checkpoint day: [day index][series]. */
  public record Result(double[][] ledger, double[][] monthAverage) {
  }

  private CostProjectionBacktest() {
  }

  public static Result run(long seed, int series) {
    double[][] ledger = new double[DAYS.length][series];
    double[][] average = new double[DAYS.length][series];
    long monthStart = Instant.parse("2026-03-01T00:00:00Z").toEpochMilli(); // 31 days, starts on a Sunday
    int hours = 31 * 24;
    for (int s = 0; s < series; s++) {
      SplittableRandom r = new SplittableRandom(seed * 7919 + s);
      double base = 1 + 49 * r.nextDouble();
      double growth = -0.1 + 0.4 * r.nextDouble();
      double weekend = 0.3 + 0.5 * r.nextDouble();
      double[] cost = new double[hours];
      // The week before the month too: the ledger's rate window reaches back into it.
      double[] before = new double[7 * 24];
      for (int h = -7 * 24; h < hours; h++) {
        long millis = monthStart + h * 3_600_000L;
        int hourOfDay = Math.floorMod(h, 24);
        int dow = (int) Math.floorMod(Math.floorDiv(millis, 86_400_000L) + 3, 7);
        double shape = hourOfDay >= 8 && hourOfDay < 20 ? 1.6 : 0.4;
        double day = dow >= 5 ? weekend : 1;
        double trend = 1 + growth * h / hours;
        boolean heavy = r.nextDouble() < 0.05 / 24 * 24 && hourOfDay == 12; // ~5 % of days have a heavy hour
        double c = base * shape * day * trend * Math.exp(0.3 * gaussian(r)) * (heavy ? 20 : 1);
        if (h < 0) {
          before[h + 7 * 24] = c;
        } else {
          cost[h] = c;
        }
      }
      double actual = 0;
      for (double c : cost) {
        actual += c;
      }
      CostLedger l = new CostLedger(10);
      List<String> key = List.of("s");
      // The ledger knows the previous month's last week only by its hourly ring: feed it, then the month.
      for (int h = 0; h < before.length; h++) {
        l.add(key, before[h], monthStart + (h - 7L * 24) * 3_600_000L);
      }
      int next = 0;
      double mtd = 0;
      for (int h = 0; h < hours; h++) {
        l.add(key, cost[h], monthStart + h * 3_600_000L + 1_800_000L);
        mtd += cost[h];
        if (next < DAYS.length && h == DAYS[next] * 24 - 1) {
          long at = monthStart + (h + 1L) * 3_600_000L - 1;
          double[] projected = new double[1];
          l.forEach(at, (k, m, p) -> projected[0] = p);
          ledger[next][s] = Math.abs(projected[0] - actual) / actual;
          double avg = mtd / (h + 1) * hours;
          average[next][s] = Math.abs(avg - actual) / actual;
          next++;
        }
      }
    }
    return new Result(ledger, average);
  }

  static double gaussian(SplittableRandom r) {
    double u = Math.max(1e-12, r.nextDouble());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
  }

  public static double quantile(double[] values, double q) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v[Math.min(v.length - 1, (int) Math.floor(q * v.length))];
  }

  public static List<String> table(Result r) {
    List<String> rows = new ArrayList<>();
    rows.add("| day of month | month-end projection (in use): median / p90 error | month-to-date average: median / "
        + "p90 error |");
    rows.add("|---|---|---|");
    for (int i = 0; i < DAYS.length; i++) {
      rows.add(String.format(java.util.Locale.ROOT, "| %d | %.1f %% / %.1f %% | %.1f %% / %.1f %% |", DAYS[i],
          100 * quantile(r.ledger()[i], 0.5), 100 * quantile(r.ledger()[i], 0.9),
          100 * quantile(r.monthAverage()[i], 0.5), 100 * quantile(r.monthAverage()[i], 0.9)));
    }
    return rows;
  }
}
