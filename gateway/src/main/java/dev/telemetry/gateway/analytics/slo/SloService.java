package dev.telemetry.gateway.analytics.slo;

import dev.telemetry.gateway.alerting.Alert;
import dev.telemetry.gateway.alerting.Alerting;
import dev.telemetry.gateway.config.SlosConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Runs the SLOs: loads the SLO file (and reloads it when it changes; an invalid new file is reported with its JSON
 * paths and the current SLOs stay — versioned and audited like the routing table), feeds the metrics pipeline into
 * the {@link SloEvaluator}, evaluates every interval, publishes gauges and {@code GET /api/v1/slos}, sends alert
 * changes to {@link Alerting}, and keeps the budget state in the state file across restarts.
 */
public final class SloService {
  private static final Logger LOG = Logger.getLogger(SloService.class.getName());
  /** Audit trail of SLO file versions (like the routing table's). */
  public static final Logger AUDIT = Logger.getLogger("dev.telemetry.gateway.audit.slos");

  private final Vertx vertx;
  private final SlosConfig config;
  private final SloFileParser.Catalog catalog;
  private final MeterRegistry registry;
  private final Alerting alerting;
  private final java.util.function.Predicate<String> owns;
  private final String member;
  private final SloEvaluator evaluator;
  private io.vertx.core.eventbus.MessageConsumer<JsonObject> peers;
  /** Where cluster members share their SLO counts. */
  static final String COUNTS_ADDRESS = "gateway.slo.counts";
  private volatile List<SloEvaluator.Status> statuses = List.of();
  private final Map<String, double[]> gaugeValues = new ConcurrentHashMap<>();
  /** The exhaustion forecast alerts firing, by SLO name. */
  private final Map<String, Alert> exhaustion = new java.util.HashMap<>();
  /** The predictive alert: the error budget is gone within slos.exhaustion_alert_within at the current burn. */
  public static final String EXHAUSTION_ALERT = "SLOErrorBudgetExhaustionForecast";
  private volatile String lastText;
  private volatile int version;
  private long watchTimer = -1;
  private long evalTimer = -1;

  public SloService(Vertx vertx, SlosConfig config, SloFileParser.Catalog catalog, MeterRegistry registry,
                    Alerting alerting) {
    this(vertx, config, catalog, registry, alerting, null, slo -> true);
  }

  /**
   * In a cluster: {@code member} is this member's node ID (counts are shared with the others over the event bus, so
   * every member judges the cluster's totals) and {@code owns} says which SLOs' alerts this member sends (one per
   * SLO, the ring's owner of its name).
   */
  public SloService(Vertx vertx, SlosConfig config, SloFileParser.Catalog catalog, MeterRegistry registry,
                    Alerting alerting, String member, java.util.function.Predicate<String> owns) {
    this.member = member;
    this.owns = owns;
    this.vertx = vertx;
    // A minute is judged two evaluation intervals after it ended: the members publish their counts every interval.
    this.evaluator = new SloEvaluator(List.of(), config == null ? 0 : 2 * config.evaluationInterval().toMillis());
    this.config = config;
    this.catalog = catalog;
    this.registry = registry;
    this.alerting = alerting;
  }

  /** Reads and validates an SLO file without applying it ({@code --check}, the rules subcommand). */
  public static List<Slo> check(java.nio.file.Path file, SloFileParser.Catalog catalog)
      throws SloFileParser.SloFileException {
    try {
      return SloFileParser.parse(Files.readString(file, StandardCharsets.UTF_8), catalog);
    } catch (java.io.IOException e) {
      throw new SloFileParser.SloFileException(List.of(file + ": cannot read the SLO file: " + e));
    }
  }

  /** Loads the file (failing the start if it is invalid), restores state, starts watching and evaluating. */
  public Future<Void> start() {
    return vertx.executeBlocking(() -> {
      apply(Files.readString(config.file(), StandardCharsets.UTF_8), "start");
      if (config.stateFile() != null && Files.exists(config.stateFile())) {
        try {
          evaluator.restore(new JsonObject(Files.readString(config.stateFile(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
          LOG.warning("SLO state " + config.stateFile() + " unreadable (" + e + "); budgets start from empty");
        }
      }
      return null;
    }, false).onSuccess(v -> {
      if (member != null) {
        peers = vertx.eventBus().<JsonObject>consumer(COUNTS_ADDRESS, m -> {
          String from = m.body().getString("member");
          if (!member.equals(from)) {
            evaluator.merge(from, m.body().getJsonObject("counts", new JsonObject()), System.currentTimeMillis());
          }
        });
      }
      if (!config.watchInterval().isZero()) {
        watchTimer = vertx.setPeriodic(config.watchInterval().toMillis(), id -> poll());
      }
      evalTimer = vertx.setPeriodic(config.evaluationInterval().toMillis(), id -> evaluate());
    }).mapEmpty();
  }

  private void apply(String text, String source) throws SloFileParser.SloFileException {
    List<Slo> slos;
    try {
      slos = SloFileParser.parse(text, catalog);
    } catch (SloFileParser.SloFileException e) {
      AUDIT.warning("SLO file rejected (source: " + source + " " + config.file() + "):\n" + e.getMessage());
      throw e;
    }
    lastText = text;
    evaluator.replace(slos);
    version++;
    AUDIT.info("SLO file version " + version + " applied (source: " + source + " " + config.file() + "): "
        + slos.size() + " SLO(s): " + slos.stream().map(Slo::name).toList());
  }

  private void poll() {
    vertx.executeBlocking(() -> {
      String text = Files.readString(config.file(), StandardCharsets.UTF_8);
      if (!text.equals(lastText)) {
        apply(text, "file");
      }
      return null;
    }, false).onFailure(e -> LOG.warning("SLO file " + config.file() + " changed but is invalid; version " + version
        + " stays in use:\n" + e.getMessage()));
  }

  /** Reloads now (SIGHUP). */
  public Future<Void> reload() {
    return vertx.executeBlocking(() -> {
      apply(Files.readString(config.file(), StandardCharsets.UTF_8), "sighup");
      return null;
    }, false).mapEmpty();
  }

  /** The metrics pipeline's accepted requests (any thread). */
  public void take(ExportMetricsServiceRequest request) {
    evaluator.take(request);
  }

  /** Evaluates now: gauges, API view, alert changes, state file. */
  void evaluate() {
    long now = System.currentTimeMillis();
    if (member != null) {
      vertx.eventBus().publish(COUNTS_ADDRESS, new JsonObject().put("member", member)
          .put("counts", evaluator.ownCounts(now)));
    }
    List<SloEvaluator.Status> out = new ArrayList<>();
    List<SloEvaluator.Transition> changes = evaluator.evaluate(now, out);
    statuses = out;
    for (SloEvaluator.Status s : out) {
      gauge("gateway.slo.error_budget.remaining", s.slo(), Tags.empty(), s.budgetRemaining(),
          "Share of the SLO window's error budget left (1: none used, below 0: overspent)");
      gauge("gateway.slo.time_to_exhaustion", s.slo(), Tags.empty(), s.secondsToExhaustion(),
          "Seconds until the error budget is gone at the current burn rate (the last hour's when that is under "
              + "4 h, else the last day's; +Inf: not burning)");
      gauge("gateway.slo.objective", s.slo(), Tags.empty(), s.slo().objective() / 100, "The SLO's objective");
      s.burnRates().forEach((w, b) -> gauge("gateway.slo.burn_rate", s.slo(),
          Tags.of("window", SloFileParser.promDuration(w)), b, "Bad-event ratio over the window divided by the "
              + "error budget (1: the budget lasts exactly the SLO window)"));
      for (Slo.BurnRule r : s.slo().rules()) {
        gauge("gateway.slo.alert.firing", s.slo(), Tags.of("severity", r.severity()),
            s.firingSince().containsKey(r.severity()) ? 1 : 0, "1 while the SLO's alert of this severity fires");
      }
    }
    if (alerting != null) {
      // Every member evaluates the same (shared) counts; only an SLO's owner sends its alerts. A member that
      // becomes the owner sends what fires (Alertmanager knows the alert by its labels); one that stops being it
      // forgets without resolving.
      for (SloEvaluator.Transition t : changes) {
        if (!t.firing()) {
          Alert a = alert(t);
          if (owns.test(t.slo().name())) {
            alerting.resolve(a);
          } else {
            alerting.forget(a);
          }
        }
      }
      for (SloEvaluator.Status s : out) {
        boolean mine = owns.test(s.slo().name());
        s.firingSince().forEach((severity, since) -> {
          Alert a = alert(new SloEvaluator.Transition(s.slo(), severity, true, now, since));
          if (mine) {
            alerting.fire(a);
          } else {
            alerting.forget(a);
          }
        });
      }
    }
    if (alerting != null && !config.exhaustionAlertWithin().isZero()) {
      forecastAlerts(out, now);
    }
    saveState();
  }

  /**
   * Fires when the budget is gone within exhaustion_alert_within at the current burn (or already gone), resolves
   * once it would last 1.5 times that — hysteresis, so a burn rate around the line does not flap. One owner sends.
   */
  private void forecastAlerts(List<SloEvaluator.Status> out, long now) {
    double within = config.exhaustionAlertWithin().toSeconds();
    java.util.Set<String> live = new java.util.HashSet<>();
    for (SloEvaluator.Status s : out) {
      String name = s.slo().name();
      live.add(name);
      double left = s.secondsToExhaustion();
      Alert current = exhaustion.get(name);
      boolean on = left < within && s.totalInWindow() > 0;
      boolean off = !(left < 1.5 * within);
      if (current == null && on) {
        Map<String, String> labels = new LinkedHashMap<>(PrometheusRules.labels(s.slo()));
        labels.put("alertname", EXHAUSTION_ALERT);
        labels.put("severity", "warning");
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("summary", left <= 0 ? "The error budget of " + name + " is used up"
            : "The error budget of " + name + " is gone in " + human(left) + " at the current burn rate");
        annotations.put("description", String.format(java.util.Locale.ROOT, "%.1f%% of the %s budget left, "
            + "burning %.2f× the sustainable rate over the last hour.", 100 * s.budgetRemaining(),
            SloFileParser.promDuration(s.slo().window()), s.burnRates().getOrDefault(Duration.ofHours(1), 0.0)));
        annotations.put("runbook_url", s.slo().runbookUrl().isEmpty()
            ? "https://github.com/telemetry-gateway/telemetry-gateway/blob/main/docs/runbooks/SLOErrorBudgetBurn.md"
            : s.slo().runbookUrl());
        Alert a = new Alert(labels, annotations, Instant.ofEpochMilli(now), null,
            alerting.externalUrl() + "/api/v1/slos?slo=" + name);
        exhaustion.put(name, a);
      } else if (current != null && off) {
        exhaustion.remove(name);
        Alert r = new Alert(current.labels(), current.annotations(), current.startsAt(), Instant.ofEpochMilli(now),
            current.generatorUrl());
        if (owns.test(name)) {
          alerting.resolve(r);
        } else {
          alerting.forget(r);
        }
      }
    }
    exhaustion.keySet().removeIf(name -> {
      if (!live.contains(name)) {
        Alert a = exhaustion.get(name);
        alerting.resolve(new Alert(a.labels(), a.annotations(), a.startsAt(), Instant.ofEpochMilli(now),
            a.generatorUrl()));
        return true;
      }
      return false;
    });
    exhaustion.forEach((name, a) -> {
      if (owns.test(name)) {
        alerting.fire(a);
      } else {
        alerting.forget(a);
      }
    });
  }

  static String human(double seconds) {
    if (seconds < 7200) {
      return Math.max(1, Math.round(seconds / 60)) + " min";
    }
    if (seconds < 3 * 86400) {
      return String.format(java.util.Locale.ROOT, "%.1f h", seconds / 3600);
    }
    return String.format(java.util.Locale.ROOT, "%.1f days", seconds / 86400);
  }

  Alert alert(SloEvaluator.Transition t) {
    Slo slo = t.slo();
    Map<String, String> labels = new LinkedHashMap<>(PrometheusRules.labels(slo));
    labels.put("alertname", PrometheusRules.ALERT);
    labels.put("severity", t.severity());
    Map<String, String> annotations = new LinkedHashMap<>();
    List<Slo.BurnRule> rules = slo.rules().stream().filter(r -> r.severity().equals(t.severity())).toList();
    annotations.put("summary", PrometheusRules.summary(slo, t.severity()));
    annotations.put("description", PrometheusRules.description(slo, rules));
    if (!slo.runbookUrl().isEmpty()) {
      annotations.put("runbook_url", slo.runbookUrl());
    }
    if (!slo.dashboardUrl().isEmpty()) {
      annotations.put("dashboard_url", slo.dashboardUrl());
    }
    String generator = (alerting != null ? alerting.externalUrl() : "") + "/api/v1/slos?slo=" + slo.name();
    return new Alert(labels, annotations, Instant.ofEpochMilli(t.startedMillis()),
        t.firing() ? null : Instant.ofEpochMilli(t.atMillis()), generator);
  }

  private void gauge(String name, Slo slo, Tags extra, double value, String description) {
    String key = name + "|" + slo.name() + "|" + extra;
    double[] holder = gaugeValues.computeIfAbsent(key, k -> {
      double[] h = new double[1];
      Gauge.builder(name, h, x -> x[0]).description(description).tags(extra).tag("slo", slo.name())
          .tag("service", slo.service()).register(registry);
      return h;
    });
    holder[0] = value;
  }

  private void saveState() {
    if (config.stateFile() == null) {
      return;
    }
    new dev.telemetry.gateway.state.StateFile(vertx, config.stateFile()).write(evaluator.state().encode())
        .onFailure(e -> LOG.warning("cannot write the SLO state " + config.stateFile() + ": " + e));
  }

  /** {@code GET /api/v1/slos}. */
  public Future<JsonObject> view() {
    JsonArray list = new JsonArray();
    statuses.forEach(s -> list.add(s.toJson()));
    return Future.succeededFuture(new JsonObject().put("version", version).put("file", config.file().toString())
        .put("slos", list));
  }

  public Future<Void> stop() {
    if (peers != null) {
      peers.unregister();
    }
    if (watchTimer >= 0) {
      vertx.cancelTimer(watchTimer);
    }
    if (evalTimer >= 0) {
      vertx.cancelTimer(evalTimer);
    }
    saveState();
    return Future.succeededFuture();
  }

  /** For tests: the evaluation interval's work on demand. */
  public void evaluateNow() {
    evaluate();
  }

  Duration evaluationInterval() {
    return config.evaluationInterval();
  }
}
