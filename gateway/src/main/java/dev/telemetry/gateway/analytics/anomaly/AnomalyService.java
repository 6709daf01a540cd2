package dev.telemetry.gateway.analytics.anomaly;

import dev.telemetry.gateway.alerting.Alert;
import dev.telemetry.gateway.alerting.Alerting;
import dev.telemetry.gateway.config.AnomaliesConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Runs anomaly detection: reads the metrics pipeline ({@link MetricReader} into a {@link SeriesBook}), and every
 * evaluation interval judges each series' steps that ended at least two intervals ago (what flushes and other
 * members owe for a step arrives meanwhile) with one {@link SeriesDetector} per series — RED rate, error ratio and
 * latency quantiles per service and span, and each configured stream. Publishes gauges and
 * {@code GET /api/v1/anomalies}, sends anomalies as alerts ({@code GatewayAnomaly}, warning or critical by score;
 * in a cluster every member judges the shared totals and only the ring owner of a series sends its alert), and keeps
 * every series' baseline in the state file across restarts.
 */
public final class AnomalyService {
  private static final Logger LOG = Logger.getLogger(AnomalyService.class.getName());
  public static final String ALERT = "GatewayAnomaly";
  static final String SHARE_ADDRESS = "gateway.anomaly.cells";
  static final int HISTORY = 200;
  static final long SAVE_EVERY_MS = 60_000;

  private final Vertx vertx;
  private final AnomaliesConfig config;
  private final MeterRegistry registry;
  private final Alerting alerting;
  private final String member;
  private final Predicate<String> owns;
  private final SeriesBook book;
  private final MetricReader reader;
  private final SelfMetricsReader self;
  private final long stepMs;
  private final long delayMs;
  private final long startedStep;
  private final Map<String, Tracked> series = new LinkedHashMap<>();
  /** Per group: the last step judged. */
  private final Map<String, Long> judged = new HashMap<>();
  private final Deque<JsonObject> history = new ArrayDeque<>();
  private final Counter overflow;
  private long lastSave;
  private long timer = -1;
  private io.vertx.core.eventbus.MessageConsumer<JsonObject> peers;

  /** One judged series. */
  private final class Tracked {
    final String key;
    final SeriesBook.Group group;
    final String signal;
    final SeriesDetector detector;
    final double[] gauges = {Double.NaN, Double.NaN, Double.NaN, 0};
    final List<Meter> meters = new ArrayList<>();
    SeriesDetector.Verdict last;
    Alert firing;

    Tracked(String key, SeriesBook.Group group, String signal, SeriesDetector detector) {
      this.key = key;
      this.group = group;
      this.signal = signal;
      this.detector = detector;
      io.micrometer.core.instrument.Tags tags = io.micrometer.core.instrument.Tags.of("stream", group.stream,
          "signal", signal, "series", describe(group.labels));
      meters.add(Gauge.builder("gateway.anomaly.value", gauges, g -> g[0]).tags(tags)
          .description("The series' value at the last judged step").register(registry));
      meters.add(Gauge.builder("gateway.anomaly.expected", gauges, g -> g[1]).tags(tags)
          .description("What the baseline expected at the last judged step").register(registry));
      meters.add(Gauge.builder("gateway.anomaly.score", gauges, g -> g[2]).tags(tags)
          .description("(value − expected) / scale at the last judged step, in the series' log or linear space")
          .register(registry));
      meters.add(Gauge.builder("gateway.anomaly.open", gauges, g -> g[3]).tags(tags)
          .description("1 while the series is anomalous (2: critical)").register(registry));
    }
  }

  public AnomalyService(Vertx vertx, AnomaliesConfig config, MeterRegistry registry, Alerting alerting) {
    this(vertx, config, registry, alerting, null, k -> true);
  }

  /** In a cluster: {@code member} shares its cells with the others; {@code owns} says which series' alerts it sends. */
  public AnomalyService(Vertx vertx, AnomaliesConfig config, MeterRegistry registry, Alerting alerting,
                        String member, Predicate<String> owns) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.alerting = alerting;
    this.member = member;
    this.owns = owns;
    this.book = new SeriesBook(config.maxSeries());
    this.reader = new MetricReader(config, book);
    this.self = new SelfMetricsReader(registry, config.streams(), book);
    this.stepMs = config.step().toMillis();
    this.delayMs = 2 * config.evaluationInterval().toMillis();
    this.startedStep = Math.floorDiv(System.currentTimeMillis(), stepMs);
    this.overflow = Counter.builder("gateway.anomaly.series.overflow").description("Series not tracked because "
        + "anomalies.max_series was reached (their steps are counted each time they are seen)").register(registry);
    Gauge.builder("gateway.anomaly.series", series, Map::size).description("Series judged for anomalies")
        .register(registry);
    Gauge.builder("gateway.anomaly.open.series", this, s -> s.openCount()).description("Series anomalous now")
        .register(registry);
  }

  private synchronized long openCount() {
    return series.values().stream().filter(t -> t.detector.open()).count();
  }

  /** The metrics pipeline's accepted requests (any thread). */
  public void take(ExportMetricsServiceRequest request) {
    reader.take(request);
  }

  public Future<Void> start() {
    return vertx.executeBlocking(() -> {
      if (config.stateFile() != null && Files.exists(config.stateFile())) {
        try {
          restore(new JsonObject(Files.readString(config.stateFile(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
          LOG.warning("anomaly state " + config.stateFile() + " unreadable (" + e + "); baselines start empty");
        }
      }
      return null;
    }, false).onSuccess(v -> {
      if (member != null) {
        peers = vertx.eventBus().<JsonObject>consumer(SHARE_ADDRESS, m -> {
          String from = m.body().getString("member");
          if (!member.equals(from)) {
            long newest = Math.floorDiv(System.currentTimeMillis(), stepMs);
            book.merge(from, m.body().getJsonArray("groups", new JsonArray()), newest - SeriesBook.KEPT_STEPS);
          }
        });
      }
      timer = vertx.setPeriodic(config.evaluationInterval().toMillis(), id -> evaluate(System.currentTimeMillis()));
    }).mapEmpty();
  }

  /** Judges every step ended by {@code nowMillis} minus the delay; for tests, {@link #evaluateNow}. */
  synchronized void evaluate(long nowMillis) {
    long newest = Math.floorDiv(nowMillis, stepMs) + 1;
    if (self.active()) {
      self.read(-Math.floorDiv(-nowMillis, stepMs)); // the step ending at or after now, as for pipeline points
    }
    if (member != null) {
      vertx.eventBus().publish(SHARE_ADDRESS, new JsonObject().put("member", member)
          .put("groups", book.shared(newest)));
    }
    long upTo = Math.floorDiv(nowMillis - delayMs, stepMs);
    for (SeriesBook.Group g : book.groups()) {
      Long done = judged.get(g.key);
      Long first = book.firstStep(g);
      long from = done != null ? done + 1 : first != null ? first : upTo + 1;
      from = Math.max(from, upTo - SeriesBook.KEPT_STEPS + 2);
      for (long s = from; s <= upTo; s++) {
        judge(g, s, book.cells(g, s));
      }
      if (from <= upTo) {
        judged.put(g.key, upTo);
      }
    }
    long expiry = config.seriesExpiry().toMillis() / stepMs;
    book.trim(upTo - SeriesBook.KEPT_STEPS, upTo - expiry);
    List<String> gone = new ArrayList<>();
    java.util.Set<String> live = new java.util.HashSet<>();
    book.groups().forEach(g -> live.add(g.key));
    series.forEach((k, t) -> {
      if (!live.contains(t.group.key)) {
        gone.add(k);
      }
    });
    for (String k : gone) {
      Tracked t = series.remove(k);
      judged.remove(t.group.key);
      t.meters.forEach(registry::remove);
      if (t.firing != null) {
        send(t, resolved(t.firing, nowMillis));
      }
    }
    // Ownership may have moved: the owner (re)sends what fires, the others forget it.
    for (Tracked t : series.values()) {
      if (t.firing != null && alerting != null) {
        if (owns.test("anomaly:" + t.key)) {
          alerting.fire(t.firing);
        } else {
          alerting.forget(t.firing);
        }
      }
    }
    if (nowMillis - lastSave >= SAVE_EVERY_MS) {
      lastSave = nowMillis;
      saveState();
    }
  }

  private void judge(SeriesBook.Group g, long step, double[] cells) {
    boolean counted = g.merge == SeriesBook.Merge.SUM;
    if (cells == null && counted && step > startedStep) {
      // Nothing said for a step of a live group: nothing happened (a silent service is a rate of zero). Before
      // this process started we cannot know.
      cells = g.what.equals("duration") ? null : new double[g.what.equals("calls") ? 2 : 1];
    }
    switch (g.what) {
      case "calls" -> {
        double calls = cells == null ? Double.NaN : cells[0];
        step(g, "rate", Transform.COUNT, Detection.Direction.BOTH, config.red().minRequests(), step, calls,
            Double.NaN);
        step(g, "error_ratio", Transform.LINEAR, Detection.Direction.UP, config.red().minRequests(), step,
            cells == null || cells[0] <= 0 ? Double.NaN : cells[1] / cells[0], calls);
      }
      case "duration" -> {
        for (double q : config.red().latencyQuantiles()) {
          double count = cells == null ? 0 : java.util.Arrays.stream(cells).sum();
          double value = count > 0 ? Quantiles.fromBuckets(g.bounds, cells, q) : Double.NaN;
          step(g, "latency_p" + Quantiles.name(q), Transform.LOG, Detection.Direction.UP, config.red().minRequests(),
              step, value, count);
        }
      }
      default -> {
        AnomaliesConfig.Stream s = config.streams().stream().filter(x -> x.name().equals(g.stream)).findFirst()
            .orElse(null);
        if (s != null) {
          step(g, "value", streamTransform(s.name()), streamDirection(s.name()), 0, step,
              cells == null ? Double.NaN : cells[0], Double.NaN);
        }
      }
    }
  }

  private void step(SeriesBook.Group g, String signal, Transform transform, Detection.Direction direction,
                    double minVolume, long step, double value, double volume) {
    String key = g.key + '\u0001' + signal;
    Tracked t = series.get(key);
    if (t == null) {
      if (Double.isNaN(value)) {
        return; // a series starts with its first value
      }
      if (series.size() >= config.maxSeries()) {
        overflow.increment();
        return;
      }
      t = new Tracked(key, g, signal, new SeriesDetector(Baseline.create(config.method(), stepMs, transform),
          transform, rules(direction, minVolume)));
      series.put(key, t);
    }
    long endMillis = step * stepMs;
    boolean suppressed = config.maintenance().stream().anyMatch(m -> m.covers(endMillis, g.labels));
    SeriesDetector.Verdict v = t.detector.step(step, value, volume, suppressed);
    t.last = v;
    t.gauges[0] = v.value();
    t.gauges[1] = v.expected();
    t.gauges[2] = v.score();
    t.gauges[3] = v.open() ? v.critical() ? 2 : 1 : 0;
    switch (v.change()) {
      case OPENED, ESCALATED -> {
        if (t.firing != null) {
          send(t, resolved(t.firing, endMillis)); // a warning that became critical is a new alert
        }
        t.firing = alert(t, v, t.detector.openedAt() * stepMs);
        record(t, v, "firing");
        send(t, t.firing);
      }
      case CLOSED -> {
        if (t.firing != null) {
          Alert r = resolved(t.firing, endMillis);
          t.firing = null;
          record(t, v, "resolved");
          send(t, r);
        }
      }
      default -> {
      }
    }
  }

  private Detection rules(Detection.Direction direction, double minVolume) {
    AnomaliesConfig.Rules r = config.rules();
    return new Detection(r.threshold(), r.sustainedThreshold(), r.sustainedSteps(), r.driftThreshold(),
        r.driftSteps(), r.closeThreshold(), r.closeAfter(), r.cooldownSteps(), minVolume, r.minSupport(),
        r.criticalThreshold(), direction);
  }

  private void send(Tracked t, Alert a) {
    if (alerting == null) {
      return;
    }
    Counter.builder("gateway.anomaly.detections").description("Anomalies opened or resolved")
        .tags("stream", t.group.stream, "signal", t.signal, "state", a.firing() ? "firing" : "resolved",
            "severity", a.labels().get("severity")).register(registry).increment();
    if (owns.test("anomaly:" + t.key)) {
      if (a.firing()) {
        alerting.fire(a);
      } else {
        alerting.resolve(a);
      }
    } else {
      alerting.forget(a);
    }
  }

  private Alert alert(Tracked t, SeriesDetector.Verdict v, long startMillis) {
    Map<String, String> labels = new LinkedHashMap<>(t.group.labels);
    labels.put("alertname", ALERT);
    labels.put("stream", t.group.stream);
    labels.put("signal", t.signal);
    labels.put("severity", v.critical() ? "critical" : "warning");
    String what = describe(t.group.labels) + " " + t.signal.replace('_', ' ');
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put("summary", String.format(java.util.Locale.ROOT, "%s is %s, expected about %s (score %.1f)",
        what, fmt(v.value()), fmt(v.expected()), v.score()));
    annotations.put("description", String.format(java.util.Locale.ROOT, "The %s baseline (daily and weekly "
        + "seasonality) puts this step %.1f robust standard deviations from normal; confidence %.2f. It stays "
        + "open until the series is back within %.1f for %d steps of %s.", config.method(), v.score(),
        v.confidence(), config.rules().closeThreshold(), config.rules().closeAfter(), config.step()));
    annotations.put("runbook_url", "https://github.com/telemetry-gateway/telemetry-gateway/blob/main/docs/runbooks/"
        + "GatewayAnomaly.md");
    annotations.put("score", String.format(java.util.Locale.ROOT, "%.2f", v.score()));
    annotations.put("confidence", String.format(java.util.Locale.ROOT, "%.2f", v.confidence()));
    String generator = (alerting != null ? alerting.externalUrl() : "") + "/api/v1/anomalies";
    return new Alert(labels, annotations, Instant.ofEpochMilli(startMillis), null, generator);
  }

  private static Alert resolved(Alert a, long atMillis) {
    return new Alert(a.labels(), a.annotations(), a.startsAt(), Instant.ofEpochMilli(Math.max(atMillis,
        a.startsAt().toEpochMilli())), a.generatorUrl());
  }

  private void record(Tracked t, SeriesDetector.Verdict v, String state) {
    history.addLast(view(t).put("state", state).put("at", Instant.ofEpochMilli(v.step() * stepMs).toString()));
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
    LOG.info("anomaly " + state + ": " + t.group.stream + " " + t.signal + " " + describe(t.group.labels)
        + " value " + fmt(v.value()) + " expected " + fmt(v.expected()) + " score " + fmt(v.score()));
  }

  private JsonObject view(Tracked t) {
    JsonObject labels = new JsonObject();
    t.group.labels.forEach(labels::put);
    JsonObject o = new JsonObject().put("stream", t.group.stream).put("signal", t.signal).put("labels", labels)
        .put("open", t.detector.open());
    SeriesDetector.Verdict v = t.last;
    if (v != null) {
      o.put("step", Instant.ofEpochMilli(v.step() * stepMs).toString()).put("value", finite(v.value()))
          .put("expected", finite(v.expected())).put("score", finite(v.score()))
          .put("confidence", v.confidence()).put("critical", v.critical());
    }
    if (t.detector.open()) {
      o.put("since", Instant.ofEpochMilli(t.detector.openedAt() * stepMs).toString());
    }
    return o;
  }

  private static Object finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static String describe(Map<String, String> labels) {
    StringBuilder b = new StringBuilder();
    new java.util.TreeMap<>(labels).forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=')
        .append(v));
    return b.toString();
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(java.util.Locale.ROOT, "%.4g", v);
  }

  /** {@code GET /api/v1/anomalies}: open anomalies, the series with the largest scores, recent changes. */
  public synchronized Future<JsonObject> view() {
    JsonArray open = new JsonArray();
    List<Tracked> judgedSeries = new ArrayList<>();
    for (Tracked t : series.values()) {
      if (t.detector.open()) {
        open.add(view(t));
      }
      if (t.last != null && !Double.isNaN(t.last.score())) {
        judgedSeries.add(t);
      }
    }
    judgedSeries.sort((a, b) -> Double.compare(Math.abs(b.last.score()), Math.abs(a.last.score())));
    JsonArray top = new JsonArray();
    judgedSeries.stream().limit(20).forEach(t -> top.add(view(t)));
    return Future.succeededFuture(new JsonObject().put("method", config.method()).put("step", config.step()
        .toString()).put("series", series.size()).put("groups", book.size()).put("overflow", book.overflow())
        .put("open", open).put("top", top).put("history", new JsonArray(new ArrayList<>(history))));
  }

  private synchronized JsonObject state() {
    JsonArray list = new JsonArray();
    series.values().forEach(t -> {
      JsonObject labels = new JsonObject();
      t.group.labels.forEach(labels::put);
      list.add(new JsonObject().put("stream", t.group.stream).put("what", t.group.what).put("labels", labels)
          .put("merge", t.group.merge.name()).put("signal", t.signal).put("judged", judged.get(t.group.key))
          .put("transform", transformOf(t).name()).put("direction", directionOf(t).name())
          .put("min_volume", minVolumeOf(t)).put("detector", t.detector.toJson()));
    });
    return new JsonObject().put("version", 1).put("method", config.method()).put("step_ms", stepMs)
        .put("series", list);
  }

  private Transform transformOf(Tracked t) {
    return switch (t.signal) {
      case "rate" -> Transform.COUNT;
      case "error_ratio" -> Transform.LINEAR;
      default -> t.signal.startsWith("latency_") ? Transform.LOG : streamTransform(t.group.stream);
    };
  }

  private Transform streamTransform(String stream) {
    return config.streams().stream().filter(s -> s.name().equals(stream)).findFirst()
        .map(s -> switch (s.scale()) {
          case "count" -> Transform.COUNT;
          case "linear" -> Transform.LINEAR;
          default -> Transform.LOG;
        }).orElse(Transform.LOG);
  }

  private Detection.Direction directionOf(Tracked t) {
    if (t.signal.equals("rate")) {
      return Detection.Direction.BOTH;
    }
    if (t.signal.equals("error_ratio") || t.signal.startsWith("latency_")) {
      return Detection.Direction.UP;
    }
    return streamDirection(t.group.stream);
  }

  private Detection.Direction streamDirection(String stream) {
    return config.streams().stream().filter(s -> s.name().equals(stream)).findFirst()
        .map(s -> Detection.Direction.valueOf(s.direction().toUpperCase(java.util.Locale.ROOT)))
        .orElse(Detection.Direction.UP);
  }

  private double minVolumeOf(Tracked t) {
    return t.group.stream.equals(MetricReader.RED) ? config.red().minRequests() : 0;
  }

  /** Restores baselines saved with the same method and step (others start empty: they would not fit). */
  synchronized void restore(JsonObject state) {
    if (state.getLong("step_ms", 0L) != stepMs || !config.method().equals(state.getString("method"))) {
      LOG.info("anomaly state was kept with another method or step; baselines start empty");
      return;
    }
    for (Object o : state.getJsonArray("series", new JsonArray())) {
      JsonObject s = (JsonObject) o;
      Map<String, String> labels = new HashMap<>();
      s.getJsonObject("labels").forEach(e -> labels.put(e.getKey(), String.valueOf(e.getValue())));
      SeriesBook.Group g = book.restoreGroup(s.getString("stream"), s.getString("what"), labels,
          SeriesBook.Merge.valueOf(s.getString("merge")), startedStep);
      if (g == null || series.size() >= config.maxSeries()) {
        continue;
      }
      Transform transform = Transform.valueOf(s.getString("transform"));
      JsonObject d = s.getJsonObject("detector");
      SeriesDetector detector = new SeriesDetector(Baseline.restore(config.method(), stepMs, transform,
          d.getJsonObject("baseline")), transform, rules(Detection.Direction.valueOf(s.getString("direction")),
          s.getDouble("min_volume")));
      detector.restoreState(d);
      String key = g.key + '\u0001' + s.getString("signal");
      Tracked t = new Tracked(key, g, s.getString("signal"), detector);
      series.put(key, t);
      if (s.getLong("judged") != null) {
        judged.merge(g.key, s.getLong("judged"), Math::max);
      }
      // An anomaly open at the stop is open again (Alertmanager knows it by its labels), until it closes.
      if (detector.open()) {
        t.firing = alert(t, new SeriesDetector.Verdict(detector.openedAt(), Double.NaN, Double.NaN, Double.NaN,
            0, true, d.getBoolean("critical", false), SeriesDetector.Change.OPENED), detector.openedAt() * stepMs);
      }
    }
  }

  private void saveState() {
    if (config.stateFile() == null) {
      return;
    }
    String text = state().encode();
    new dev.telemetry.gateway.state.StateFile(vertx, config.stateFile()).write(text)
        .onFailure(e -> LOG.warning("cannot write the anomaly state " + config.stateFile() + ": " + e));
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (peers != null) {
      peers.unregister();
    }
    if (config.stateFile() == null) {
      return Future.succeededFuture();
    }
    String text = state().encode();
    return new dev.telemetry.gateway.state.StateFile(vertx, config.stateFile()).write(text);
  }

  /** For tests: what the book holds. */
  SeriesBook book() {
    return book;
  }

  /** For tests: the evaluation interval's work now. */
  public void evaluateNow() {
    evaluate(System.currentTimeMillis());
  }
}
