package dev.telemetry.gateway.analytics.slo;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.exporter.prometheus.PrometheusNames;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The in-stream face of the SLOs: reads the metrics pipeline (the span_metrics connector's series and any incoming
 * counter or histogram), books each SLO's bad and total events per minute ({@link SloLedger}; a point stamped t in
 * the minute ending at or after t), and evaluates — over whole minutes only, each judged once it ended — burn
 * rates, error budget and alert state with the same arithmetic as the generated Prometheus rules
 * ({@link PrometheusRules}): ratio over a window = bad increase / total increase between the samples at t − w and t;
 * a severity fires when some rule's burn rate exceeds its factor over both windows, and resolves once that has not
 * been so for the shortest of its short windows (the rules' {@code keep_firing_for}). Thread-safe (one lock).
 */
public final class SloEvaluator {
  /** A change of an SLO alert: firing (first time, or again after it resolved) or resolved. */
  public record Transition(Slo slo, String severity, boolean firing, long atMillis, long startedMillis) {
  }

  /** One SLO's state at an evaluation. */
  public record Status(Slo slo, long atMillis, Map<Duration, Double> burnRates, double badInWindow,
                       double totalInWindow, double budgetRemaining, double secondsToExhaustion,
                       Map<String, Long> firingSince) {
    public JsonObject toJson() {
      JsonObject burn = new JsonObject();
      burnRates.forEach((w, b) -> burn.put(SloFileParser.promDuration(w), finite(b)));
      JsonObject firing = new JsonObject();
      firingSince.forEach((s, t) -> firing.put(s, java.time.Instant.ofEpochMilli(t).toString()));
      return new JsonObject().put("name", slo.name()).put("service", slo.service()).put("tenant", slo.tenant())
          .put("sli", slo.sli().kind()).put("objective", slo.objective())
          .put("window", SloFileParser.promDuration(slo.window()))
          .put("evaluated_at", java.time.Instant.ofEpochMilli(atMillis).toString())
          .put("events", new JsonObject().put("bad", badInWindow).put("total", totalInWindow))
          .put("error_budget_remaining", finite(budgetRemaining)).put("burn_rate", burn)
          .put("seconds_to_exhaustion", finite(secondsToExhaustion)).put("firing", firing);
    }

    private static Object finite(double v) {
      return Double.isFinite(v) ? v : null;
    }
  }

  /** A selector's role in an SLO. */
  private enum Role { TOTAL, BAD, GOOD }

  private record Watch(SloState state, Role role, Slo.Selector selector) {
  }

  /** Per SLO: its ledger and alert state. */
  private static final class SloState {
    final Slo slo;
    final SloLedger ledger;
    /** Severity → epoch millis it started firing; and → millis the condition first went false while firing. */
    final Map<String, Long> firingSince = new TreeMap<>();
    final Map<String, Long> falseSince = new HashMap<>();

    SloState(Slo slo, SloLedger ledger) {
      this.slo = slo;
      this.ledger = ledger;
    }
  }

  private final Map<String, SloState> states = new LinkedHashMap<>();
  /** Prometheus metric name → the selectors reading it. */
  private Map<String, List<Watch>> watches = Map.of();
  /** Last cumulative value and start time per (selector, stream); bounded. */
  private final Map<ByteString, double[]> cumulative = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<ByteString, double[]> eldest) {
      return size() > 100_000;
    }
  };
  private final long startedNanos = System.currentTimeMillis() * 1_000_000L;
  /** Minutes of this member's own counts shared with the other cluster members (each publish repeats them all). */
  static final int SHARED_MINUTES = 15;
  /** This member's own counts of the last minutes, per SLO: minute → {bad, total}. */
  private final Map<String, TreeMap<Long, double[]>> own = new HashMap<>();
  /** What each other member last said it counted, per SLO and minute (to book only the change). */
  private final Map<String, Map<String, TreeMap<Long, double[]>>> remote = new HashMap<>();

  /** How long after a minute ends it is judged: what members and flushes still owe for it arrives meanwhile. */
  private final long delayMillis;

  public SloEvaluator(List<Slo> slos) {
    this(slos, 0);
  }

  /**
   * {@code delayMillis}: a minute is judged only this long after it ended (its last points and the other cluster
   * members' counts for it arrive meanwhile); 0 judges each minute as soon as it ends.
   */
  public SloEvaluator(List<Slo> slos, long delayMillis) {
    this.delayMillis = delayMillis;
    replace(slos);
  }

  /**
   * Takes a new SLO file: SLOs whose name and SLI did not change keep their history and alert state; others start
   * empty; removed ones are forgotten (their firing alerts are returned resolved by the next {@link #evaluate}).
   */
  public synchronized void replace(List<Slo> slos) {
    Map<String, SloState> old = new LinkedHashMap<>(states);
    states.clear();
    Map<String, List<Watch>> w = new HashMap<>();
    for (Slo slo : slos) {
      SloState previous = old.remove(slo.name());
      SloState s = previous != null && previous.slo.sli().equals(slo.sli())
          && previous.slo.window().equals(slo.window()) ? carry(previous, slo)
          : new SloState(slo, new SloLedger((int) slo.window().toHours()));
      states.put(slo.name(), s);
      watch(w, s, Role.TOTAL, slo.sli().total());
      watch(w, s, Role.BAD, slo.sli().bad());
      watch(w, s, Role.GOOD, slo.sli().good());
    }
    removed.addAll(old.values());
    watches = w;
  }

  private final List<SloState> removed = new ArrayList<>();

  private static SloState carry(SloState previous, Slo slo) {
    SloState s = new SloState(slo, previous.ledger);
    s.firingSince.putAll(previous.firingSince);
    s.falseSince.putAll(previous.falseSince);
    return s;
  }

  private static void watch(Map<String, List<Watch>> w, SloState s, Role role, Slo.Selector sel) {
    if (sel != null) {
      String name = sel.le() != null ? sel.metric() + "_bucket" : sel.metric();
      w.computeIfAbsent(name, k -> new ArrayList<>()).add(new Watch(s, role, sel));
    }
  }

  /** Books the request's points that SLOs read (any thread). */
  public synchronized void take(ExportMetricsServiceRequest request) {
    Map<String, List<Watch>> w = watches;
    if (w.isEmpty()) {
      return;
    }
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          switch (m.getDataCase()) {
            case SUM -> {
              if (!m.getSum().getIsMonotonic()) {
                continue;
              }
              List<Watch> ws = w.get(PrometheusNames.metricName(m.getName(), m.getUnit(), true, false, true));
              boolean delta = m.getSum().getAggregationTemporality()
                  == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
              for (int i = 0; ws != null && i < m.getSum().getDataPointsCount(); i++) {
                NumberDataPoint p = m.getSum().getDataPoints(i);
                double v = p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
                book(ws, rm, p.getAttributesList(), null, v, p.getStartTimeUnixNano(), p.getTimeUnixNano(), delta);
              }
            }
            case HISTOGRAM -> {
              String base = PrometheusNames.metricName(m.getName(), m.getUnit(), false, false, true);
              List<Watch> counts = w.get(base + "_count");
              List<Watch> buckets = w.get(base + "_bucket");
              if (counts == null && buckets == null) {
                continue;
              }
              boolean delta = m.getHistogram().getAggregationTemporality()
                  == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
              for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
                if (counts != null) {
                  book(counts, rm, p.getAttributesList(), null, p.getCount(), p.getStartTimeUnixNano(),
                      p.getTimeUnixNano(), delta);
                }
                if (buckets != null) {
                  book(buckets, rm, p.getAttributesList(), p, 0, p.getStartTimeUnixNano(), p.getTimeUnixNano(),
                      delta);
                }
              }
            }
            default -> {
            }
          }
        }
      }
    }
  }

  private void book(List<Watch> ws, ResourceMetrics rm, List<KeyValue> attrs, HistogramDataPoint histogram,
                    double value, long start, long time, boolean delta) {
    Map<String, String> labels = null;
    for (Watch watch : ws) {
      if (labels == null) {
        labels = PrometheusNames.labels(attrs, Map.of());
      }
      if (!matches(watch.selector(), labels)) {
        continue;
      }
      double v = histogram != null ? cumulativeAtOrBelow(histogram, watch.selector().le()) : value;
      if (Double.isNaN(v)) {
        continue; // the histogram has no bound at le: nothing exact to count
      }
      double increase = delta ? v : increase(watch, rm, attrs, v, start);
      if (increase <= 0) {
        continue;
      }
      // A point stamped t counts in the minute ending at or after t: a minute is whole once it ended.
      long minute = -Math.floorDiv(-time, 60_000_000_000L);
      double bad = switch (watch.role()) {
        case TOTAL -> watch.state().slo.sli().good() != null ? increase : 0;
        case BAD -> increase;
        case GOOD -> -increase;
      };
      double total = watch.role() == Role.TOTAL ? increase : 0;
      watch.state().ledger.add(minute, bad, total);
      double[] mine = own.computeIfAbsent(watch.state().slo.name(), k -> new TreeMap<>())
          .computeIfAbsent(minute, k -> new double[2]);
      mine[0] += bad;
      mine[1] += total;
    }
  }

  private static boolean matches(Slo.Selector s, Map<String, String> labels) {
    for (Map.Entry<String, String> e : s.labels().entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** The count of values ≤ le in an explicit-bucket point, or NaN when le is not one of its bounds. */
  private static double cumulativeAtOrBelow(HistogramDataPoint p, double le) {
    long sum = 0;
    for (int i = 0; i < p.getExplicitBoundsCount(); i++) {
      sum += i < p.getBucketCountsCount() ? p.getBucketCounts(i) : 0;
      if (p.getExplicitBounds(i) == le) {
        return sum;
      }
    }
    return Double.NaN;
  }

  /**
   * The increase of a cumulative stream since its last point; a reset (lower value, new start time) counts the new
   * value. A stream seen first counts whole only if it started after this evaluator did (else its earlier part may
   * have been counted before a restart, and is in the restored ledger).
   */
  private double increase(Watch watch, ResourceMetrics rm, List<KeyValue> attrs, double v, long start) {
    ByteString key = ByteString.copyFromUtf8(watch.state().slo.name() + '\u0000' + watch.role() + '\u0000'
        + watch.selector().metric()).concat(rm.getResource().toByteString())
        .concat(ByteString.copyFromUtf8(attrs.toString()));
    double[] last = cumulative.get(key);
    cumulative.put(key, new double[] {v, start});
    if (last == null) {
      return start >= startedNanos ? v : 0;
    }
    if (last[1] != start || v < last[0]) {
      return v;
    }
    return v - last[0];
  }

  /**
   * Evaluates every SLO at {@code nowMillis}: statuses, and the alert transitions since the last evaluation
   * (including resolutions of SLOs removed from the file).
   */
  public synchronized List<Transition> evaluate(long nowMillis, List<Status> statuses) {
    // Windows end with the last whole minute (as rate(x[w]) at a minute boundary sees them), never a partial one.
    long minute = Math.floorDiv(nowMillis - delayMillis, 60_000L);
    List<Transition> out = new ArrayList<>();
    for (SloState s : removed) {
      s.firingSince.forEach((severity, since) -> out.add(new Transition(s.slo, severity, false, nowMillis, since)));
    }
    removed.clear();
    for (SloState s : states.values()) {
      Slo slo = s.slo;
      double budget = slo.budget();
      Map<Duration, Double> burn = new TreeMap<>();
      Map<Duration, Double> ratio = new HashMap<>();
      for (Duration w : PrometheusRules.windows(slo)) {
        if (w.toMinutes() <= SloLedger.MINUTES) {
          double[] bt = s.ledger.minutes(minute, w.toMinutes());
          double r = bt[1] > 0 ? Math.max(0, bt[0]) / bt[1] : Double.NaN;
          ratio.put(w, r);
          burn.put(w, r / budget);
        }
      }
      double[] window = s.ledger.hours(minute, slo.window().toHours());
      double bad = Math.max(0, window[0]);
      double remaining = window[1] > 0 ? 1 - bad / window[1] / budget : 1;
      Double hourBurn = burn.get(Duration.ofHours(1));
      // The last day's burn (a ratio: over what the day holds so far) for long horizons.
      double[] day = s.ledger.minutes(minute, 1440);
      double dayBurn = day[1] > 0 ? Math.max(0, day[0]) / day[1] / budget : Double.NaN;
      double toExhaustion = dev.telemetry.gateway.analytics.forecast.Exhaustion.secondsLeft(remaining,
          slo.window().toSeconds(), hourBurn == null ? Double.NaN : hourBurn, dayBurn);
      Map<String, Boolean> condition = new LinkedHashMap<>();
      Map<String, List<Slo.BurnRule>> bySeverity = new HashMap<>();
      for (Slo.BurnRule r : slo.rules()) {
        double threshold = r.factor() * budget;
        Double longRatio = ratio.get(r.longWindow());
        Double shortRatio = ratio.get(r.shortWindow());
        boolean on = longRatio != null && shortRatio != null && longRatio > threshold && shortRatio > threshold;
        condition.merge(r.severity(), on, Boolean::logicalOr);
        bySeverity.computeIfAbsent(r.severity(), k -> new ArrayList<>()).add(r);
      }
      for (Map.Entry<String, Boolean> c : condition.entrySet()) {
        String severity = c.getKey();
        Long since = s.firingSince.get(severity);
        if (c.getValue()) {
          s.falseSince.remove(severity);
          if (since == null) {
            s.firingSince.put(severity, nowMillis);
            out.add(new Transition(slo, severity, true, nowMillis, nowMillis));
          }
        } else if (since != null) {
          long falseAt = s.falseSince.computeIfAbsent(severity, k -> nowMillis);
          if (nowMillis - falseAt >= PrometheusRules.keepFiringFor(bySeverity.get(severity)).toMillis()) {
            s.firingSince.remove(severity);
            s.falseSince.remove(severity);
            out.add(new Transition(slo, severity, false, nowMillis, since));
          }
        }
      }
      // Severities no rule names any more resolve.
      for (String severity : new ArrayList<>(s.firingSince.keySet())) {
        if (!condition.containsKey(severity)) {
          out.add(new Transition(slo, severity, false, nowMillis, s.firingSince.remove(severity)));
        }
      }
      statuses.add(new Status(slo, nowMillis, burn, bad, window[1], remaining, toExhaustion,
          Map.copyOf(s.firingSince)));
    }
    return out;
  }

  /**
   * This member's own counts of the last {@value #SHARED_MINUTES} minutes, for the other cluster members: {slo:
   * [[minute, bad, total], ...]}. Repeating them in every publish makes a lost message harmless.
   */
  public synchronized JsonObject ownCounts(long nowMillis) {
    long oldest = Math.floorDiv(nowMillis, 60_000L) - SHARED_MINUTES;
    JsonObject out = new JsonObject();
    own.forEach((slo, minutes) -> {
      minutes.headMap(oldest).clear();
      io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
      minutes.forEach((m, c) -> list.add(new io.vertx.core.json.JsonArray().add(m).add(c[0]).add(c[1])));
      out.put(slo, list);
    });
    return out;
  }

  /**
   * Books what another member counted (its {@link #ownCounts}): only the change since its last message, so the
   * ledger holds the cluster's total — every member then judges the same numbers, not its own share.
   */
  public synchronized void merge(String member, JsonObject counts, long nowMillis) {
    long oldest = Math.floorDiv(nowMillis, 60_000L) - 2L * SHARED_MINUTES;
    Map<String, TreeMap<Long, double[]>> seen = remote.computeIfAbsent(member, k -> new HashMap<>());
    for (String slo : counts.fieldNames()) {
      SloState s = states.get(slo);
      if (s == null) {
        continue;
      }
      TreeMap<Long, double[]> last = seen.computeIfAbsent(slo, k -> new TreeMap<>());
      for (Object o : counts.getJsonArray(slo)) {
        io.vertx.core.json.JsonArray b = (io.vertx.core.json.JsonArray) o;
        long minute = b.getLong(0);
        if (minute < oldest) {
          continue;
        }
        double[] before = last.computeIfAbsent(minute, k -> new double[2]);
        double bad = b.getDouble(1);
        double total = b.getDouble(2);
        s.ledger.add(minute, bad - before[0], total - before[1]);
        before[0] = bad;
        before[1] = total;
      }
      last.headMap(oldest).clear();
    }
  }

  /** Every SLO's ledger and alert state, for the state file. */
  public synchronized JsonObject state() {
    JsonObject slos = new JsonObject();
    states.forEach((name, s) -> {
      JsonObject firing = new JsonObject();
      s.firingSince.forEach(firing::put);
      slos.put(name, new JsonObject().put("sli", s.slo.sli().toString()).put("ledger", s.ledger.toJson())
          .put("firing", firing));
    });
    // The shared counts too: after a restart this member must neither book a peer's minutes twice nor tell its
    // peers smaller counts than before (they would subtract the difference).
    JsonObject peers = new JsonObject();
    remote.forEach((member, bySlo) -> peers.put(member, minutes(bySlo)));
    return new JsonObject().put("version", 1).put("slos", slos).put("own", minutes(own)).put("peers", peers);
  }

  private static JsonObject minutes(Map<String, TreeMap<Long, double[]>> bySlo) {
    JsonObject out = new JsonObject();
    bySlo.forEach((slo, minutes) -> {
      io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
      minutes.forEach((m, c) -> list.add(new io.vertx.core.json.JsonArray().add(m).add(c[0]).add(c[1])));
      out.put(slo, list);
    });
    return out;
  }

  private static void readMinutes(JsonObject json, Map<String, TreeMap<Long, double[]>> into) {
    for (String slo : json.fieldNames()) {
      TreeMap<Long, double[]> minutes = into.computeIfAbsent(slo, k -> new TreeMap<>());
      for (Object o : json.getJsonArray(slo)) {
        io.vertx.core.json.JsonArray b = (io.vertx.core.json.JsonArray) o;
        minutes.put(b.getLong(0), new double[] {b.getDouble(1), b.getDouble(2)});
      }
    }
  }

  /** Restores ledgers and alert state of SLOs whose SLI is unchanged. */
  public synchronized void restore(JsonObject state) {
    JsonObject slos = state.getJsonObject("slos", new JsonObject());
    for (String name : slos.fieldNames()) {
      SloState s = states.get(name);
      JsonObject o = slos.getJsonObject(name);
      if (s != null && s.slo.sli().toString().equals(o.getString("sli"))) {
        s.ledger.restore(o.getJsonObject("ledger", new JsonObject()));
        o.getJsonObject("firing", new JsonObject()).forEach(e -> s.firingSince.put(e.getKey(),
            ((Number) e.getValue()).longValue()));
      }
    }
    readMinutes(state.getJsonObject("own", new JsonObject()), own);
    JsonObject peers = state.getJsonObject("peers", new JsonObject());
    for (String member : peers.fieldNames()) {
      readMinutes(peers.getJsonObject(member), remote.computeIfAbsent(member, k -> new HashMap<>()));
    }
  }

  public synchronized List<Slo> slos() {
    return states.values().stream().map(s -> s.slo).toList();
  }
}
