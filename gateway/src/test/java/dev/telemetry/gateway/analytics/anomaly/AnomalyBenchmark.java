package dev.telemetry.gateway.analytics.anomaly;

import dev.telemetry.gateway.analytics.anomaly.SyntheticSeries.Event;
import dev.telemetry.gateway.analytics.anomaly.SyntheticSeries.Kind;
import dev.telemetry.gateway.analytics.anomaly.SyntheticSeries.Metric;
import dev.telemetry.gateway.analytics.anomaly.SyntheticSeries.Series;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a detection method over the {@link SyntheticSeries} and scores it against the labels: an injected event is
 * found when an anomaly opens within its deadline (a spike: its steps and two more; a level shift: its first hour; a
 * drift or a holiday: while it lasts); an anomaly is right when it opens within an event or up to two hours after its
 * end (the return to normal is the same incident), else it is a false alarm. Clean series give the false alarms per
 * series-week. {@code main} prints the table docs/anomaly.md shows.
 */
public final class AnomalyBenchmark {
  static final int GRACE_STEPS = 24;

  /** Totals for one group of series. */
  public static final class Score {
    public int events;
    public int found;
    public int alerts;
    public int rightAlerts;
    public double seriesWeeks;
    public final List<Integer> delays = new ArrayList<>();

    public double recall() {
      return events == 0 ? Double.NaN : (double) found / events;
    }

    public double precision() {
      return alerts == 0 ? 1 : (double) rightAlerts / alerts;
    }

    public double falseAlarmsPerSeriesWeek() {
      return seriesWeeks == 0 ? Double.NaN : (alerts - rightAlerts) / seriesWeeks;
    }

    /** Detection delay percentile in minutes. */
    public double delayMinutes(double q) {
      if (delays.isEmpty()) {
        return Double.NaN;
      }
      List<Integer> d = new ArrayList<>(delays);
      d.sort(null);
      return d.get(Math.min(d.size() - 1, (int) Math.floor(q * d.size()))) * 5.0;
    }

    void add(Score o) {
      events += o.events;
      found += o.found;
      alerts += o.alerts;
      rightAlerts += o.rightAlerts;
      seriesWeeks += o.seriesWeeks;
      delays.addAll(o.delays);
    }
  }

  /** The default rules per metric (what the gateway's config defaults to for the matching stream). */
  public static Detection rules(Metric m, Detection base) {
    return switch (m) {
      case RATE -> base.withDirection(Detection.Direction.BOTH);
      case LATENCY, ERROR_RATIO -> base.withDirection(Detection.Direction.UP).withMinVolume(20);
      case COST -> base.withDirection(Detection.Direction.UP);
    };
  }

  /** Scores one series. */
  public static Score run(Series s, String method, Detection base) {
    SeriesDetector d = new SeriesDetector(Baseline.create(method, SyntheticSeries.STEP_MS, s.transform()), s.transform(),
        rules(s.metric(), base));
    int first = SyntheticSeries.WARMUP_DAYS * SyntheticSeries.STEPS_PER_DAY;
    List<Integer> opens = new ArrayList<>();
    for (int t = 0; t < s.values().length; t++) {
      SeriesDetector.Verdict v = d.step(SyntheticSeries.START_STEP + t, s.values()[t], s.volume()[t], false);
      if (t >= first && v.change() == SeriesDetector.Change.OPENED) {
        opens.add(t);
      }
    }
    Score score = new Score();
    score.seriesWeeks = (s.values().length - first) / (7.0 * SyntheticSeries.STEPS_PER_DAY);
    score.alerts = opens.size();
    for (int open : opens) {
      for (Event e : s.events()) {
        if (open >= e.start() && open < e.end() + GRACE_STEPS) {
          score.rightAlerts++;
          break;
        }
      }
    }
    for (Event e : s.events()) {
      score.events++;
      int deadline = switch (e.kind()) {
        case SPIKE -> e.end() + 2;
        case LEVEL_SHIFT -> e.start() + 12;
        default -> e.end();
      };
      for (int open : opens) {
        if (open >= e.start() && open < deadline) {
          score.found++;
          score.delays.add(open - e.start());
          break;
        }
      }
    }
    return score;
  }

  /** Scores by kind (all metrics together) and by metric and kind. */
  public static Map<Kind, Map<Metric, Score>> run(List<Series> all, String method, Detection base) {
    Map<Kind, Map<Metric, Score>> out = new EnumMap<>(Kind.class);
    for (Series s : all) {
      out.computeIfAbsent(s.kind(), k -> new EnumMap<>(Metric.class))
          .computeIfAbsent(s.metric(), m -> new Score()).add(run(s, method, base));
    }
    return out;
  }

  public static Score total(Map<Metric, Score> byMetric) {
    Score t = new Score();
    byMetric.values().forEach(t::add);
    return t;
  }

  /** The default rules the gateway uses. */
  public static Detection defaults() {
    return Detection.DEFAULTS;
  }

  /** A markdown table: per kind, each metric and all of them. */
  public static String table(Map<Kind, Map<Metric, Score>> scores) {
    StringBuilder b = new StringBuilder();
    b.append("| kind | metric | events | found | recall | alerts | precision | delay p50 / p90 (min) "
        + "| false alarms per series-week |\n|---|---|---|---|---|---|---|---|---|\n");
    scores.forEach((kind, byMetric) -> {
      List<Map.Entry<String, Score>> rows = new ArrayList<>();
      byMetric.forEach((m, s) -> rows.add(Map.entry(m.name().toLowerCase(), s)));
      rows.add(Map.entry("**all**", total(byMetric)));
      for (Map.Entry<String, Score> row : rows) {
        Score s = row.getValue();
        b.append(String.format(java.util.Locale.ROOT, "| %s | %s | %d | %d | %s | %d | %.3f | %s | %.3f |%n",
            kind.name().toLowerCase(), row.getKey(), s.events, s.found,
            s.events == 0 ? "–" : String.format(java.util.Locale.ROOT, "%.3f", s.recall()), s.alerts,
            s.precision(), s.delays.isEmpty() ? "–" : String.format(java.util.Locale.ROOT, "%.0f / %.0f",
                s.delayMinutes(0.5), s.delayMinutes(0.9)), s.falseAlarmsPerSeriesWeek()));
      }
    });
    return b.toString();
  }

  /** {@code main [seed] [series per kind and metric] [clean series per metric]}: both methods' tables. */
  public static void main(String[] args) {
    long seed = args.length > 0 ? Long.parseLong(args[0]) : 20261202L;
    int perKind = args.length > 1 ? Integer.parseInt(args[1]) : 25;
    int clean = args.length > 2 ? Integer.parseInt(args[2]) : 50;
    List<Series> series = SyntheticSeries.generate(seed, perKind, clean);
    for (String method : List.of(SeasonalMedianBaseline.METHOD, HoltWintersBaseline.METHOD)) {
      long t0 = System.nanoTime();
      Map<Kind, Map<Metric, Score>> scores = run(series, method, defaults());
      System.out.printf("## %s (seed %d, %d series, %.1f s)%n%n%s%n", method, seed, series.size(),
          (System.nanoTime() - t0) / 1e9, table(scores));
    }
  }
}
