package dev.telemetry.gateway.analytics.forecast;

import dev.telemetry.gateway.alerting.Alert;
import dev.telemetry.gateway.alerting.Alerting;
import dev.telemetry.gateway.config.ForecastsConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusNames;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Forecasts, each a gauge and a predictive alert: when every persistent queue's disk fills at its recent growth
 * ({@code GatewayQueueDiskFullForecast}: its headroom is the queue's bound or the filesystem's free space, whichever
 * is smaller), and each GenAI cost budget's month-end cost — the gen_ai_metrics connector's projection read from the
 * metrics pipeline, summed over the series the budget matches — against its amount
 * ({@code GenAICostBudgetForecast}: warning from warn_at, critical above the budget). The SLOs' budget exhaustion is
 * forecast by the SLO service. Alerts resolve with hysteresis (the forecast must be clearly better again).
 */
public final class ForecastService {
  private static final Logger LOG = Logger.getLogger(ForecastService.class.getName());
  public static final String QUEUE_ALERT = "GatewayQueueDiskFullForecast";
  public static final String COST_ALERT = "GenAICostBudgetForecast";
  /** A projection not refreshed for this long no longer counts (its service stopped reporting). */
  static final long STALE_MS = 15 * 60_000L;

  private final Vertx vertx;
  private final ForecastsConfig config;
  private final MeterRegistry registry;
  private final Alerting alerting;
  private final String costMetric;
  private final Map<String, Trend> queueTrends = new HashMap<>();
  private final Map<String, double[]> gauges = new ConcurrentHashMap<>();
  private final Map<String, Alert> firing = new LinkedHashMap<>();
  /** Latest month-end projection per cost series: labels → {value, epoch millis}. Bounded. */
  private final Map<Map<String, String>, double[]> projections = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Map<String, String>, double[]> eldest) {
      return size() > 10_000;
    }
  };
  private volatile JsonObject lastView = new JsonObject();
  private long timer = -1;

  public ForecastService(Vertx vertx, ForecastsConfig config, MeterRegistry registry, Alerting alerting) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.alerting = alerting;
    this.costMetric = config.costMetric();
  }

  public Future<Void> start() {
    timer = vertx.setPeriodic(config.interval().toMillis(), id -> evaluate(System.currentTimeMillis()));
    return Future.succeededFuture();
  }

  /** The metrics pipeline's accepted requests (any thread): keeps the cost projections. */
  public void take(ExportMetricsServiceRequest request) {
    if (config.costBudgets().isEmpty()) {
      return;
    }
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          List<NumberDataPoint> points = switch (m.getDataCase()) {
            case GAUGE -> m.getGauge().getDataPointsList();
            case SUM -> m.getSum().getIsMonotonic() ? List.of() : m.getSum().getDataPointsList();
            default -> List.of();
          };
          if (points.isEmpty() || !costMetric.equals(PrometheusNames.metricName(m.getName(), m.getUnit(), false,
              true, true))) {
            continue;
          }
          for (NumberDataPoint p : points) {
            double v = p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
            Map<String, String> labels = labels(rm.getResource().getAttributesList());
            labels.putAll(labels(p.getAttributesList()));
            synchronized (projections) {
              projections.put(labels, new double[] {v, p.getTimeUnixNano() / 1_000_000.0});
            }
          }
        }
      }
    }
  }

  private static Map<String, String> labels(List<KeyValue> attrs) {
    Map<String, String> out = new HashMap<>();
    for (KeyValue kv : attrs) {
      if (kv.getValue().hasStringValue()) {
        out.put(PrometheusNames.labelName(kv.getKey()), kv.getValue().getStringValue());
      }
    }
    return out;
  }

  /** One round: queue disks, cost budgets; gauges, alerts, the API view. */
  synchronized void evaluate(long now) {
    JsonArray queues = new JsonArray();
    for (Gauge g : registry.find("gateway.queue.disk.size").gauges()) {
      String exporter = g.getId().getTag("exporter");
      String signal = g.getId().getTag("signal");
      String key = exporter + "/" + signal;
      double used = g.value();
      Trend t = queueTrends.computeIfAbsent(key, k -> new Trend(config.queueDiskWindow().toMillis()));
      t.add(now, used);
      double capacity = value("gateway.queue.capacity", exporter, signal);
      double available = value("gateway.queue.disk.available", exporter, signal);
      double headroom = Math.min(Double.isNaN(capacity) ? Double.POSITIVE_INFINITY : capacity - used,
          Double.isNaN(available) ? Double.POSITIVE_INFINITY : available);
      boolean enough = t.spanMillis() >= config.queueDiskWindow().toMillis() / 2;
      double seconds = enough ? t.secondsUntil(headroom) : Double.POSITIVE_INFINITY;
      gauge("gateway.forecast.queue.disk.full.seconds", Map.of("exporter", exporter, "signal", signal), seconds,
          "Seconds until the persistent queue's disk is full at its growth over forecasts.queue_disk.window "
              + "(+Inf: not growing)");
      queues.add(new JsonObject().put("exporter", exporter).put("signal", signal).put("used_bytes", used)
          .put("headroom_bytes", finite(headroom)).put("growth_bytes_per_second", finite(t.slopePerSecond()))
          .put("seconds_to_full", finite(seconds)));
      long within = config.queueDiskAlertWithin().toSeconds();
      if (within > 0) {
        Map<String, String> labels = Map.of("alertname", QUEUE_ALERT, "exporter", exporter, "signal", signal,
            "severity", "warning");
        boolean on = seconds < within;
        boolean off = seconds >= 1.5 * within;
        transition(labels, on, off, now, String.format(java.util.Locale.ROOT,
            "The %s queue of exporter %s fills its disk in %s at its growth of the last %s", signal, exporter,
            human(seconds), config.queueDiskWindow()), "Headroom " + (long) headroom + " bytes, growing "
            + String.format(java.util.Locale.ROOT, "%.0f", t.slopePerSecond()) + " bytes/s: the backend is "
            + "slower than the traffic, or down. See the runbook before the queue starts refusing data.",
            "GatewayQueueDiskFullForecast");
      }
    }
    JsonArray budgets = new JsonArray();
    for (ForecastsConfig.CostBudget b : config.costBudgets()) {
      double projected = 0;
      int series = 0;
      synchronized (projections) {
        for (Map.Entry<Map<String, String>, double[]> e : projections.entrySet()) {
          if (now - e.getValue()[1] <= STALE_MS && b.match().entrySet().stream()
              .allMatch(x -> x.getValue().equals(e.getKey().get(PrometheusNames.labelName(x.getKey()))))) {
            projected += e.getValue()[0];
            series++;
          }
        }
      }
      double ratio = projected / b.monthlyUsd();
      Map<String, String> tags = Map.of("budget", b.name());
      gauge("gateway.forecast.cost.month_end.usd", tags, projected, "Projected month-end GenAI cost of the budget's "
          + "series, USD");
      gauge("gateway.forecast.cost.budget.usd", tags, b.monthlyUsd(), "The budget's monthly amount, USD");
      gauge("gateway.forecast.cost.budget.ratio", tags, ratio, "Projected month-end cost over the budget");
      budgets.add(new JsonObject().put("name", b.name()).put("monthly_usd", b.monthlyUsd())
          .put("projected_month_end_usd", projected).put("ratio", ratio).put("series", series));
      for (String severity : List.of("warning", "critical")) {
        double at = severity.equals("critical") ? 1 : b.warnAt();
        Map<String, String> labels = Map.of("alertname", COST_ALERT, "budget", b.name(), "severity", severity);
        transition(labels, ratio >= at, ratio < at * 0.95, now, String.format(java.util.Locale.ROOT,
            "GenAI cost of %s projected at $%.2f by month end: %.0f%% of its $%.2f budget", b.name(), projected,
            100 * ratio, b.monthlyUsd()), "Month-to-date cost plus the last week's hourly rate over the hours "
            + "left in the month (UTC), summed over " + series + " series matching " + b.match() + ".",
            "GenAICostBudgetForecast");
      }
    }
    lastView = new JsonObject().put("evaluated_at", Instant.ofEpochMilli(now).toString()).put("queues", queues)
        .put("cost_budgets", budgets).put("firing", new JsonArray(firing.values().stream()
            .map(a -> (Object) a.toJson(a.startsAt())).toList()));
  }

  private void transition(Map<String, String> labels, boolean on, boolean off, long now, String summary,
                          String description, String runbook) {
    String key = new java.util.TreeMap<>(labels).toString();
    Alert current = firing.get(key);
    if (current == null && on) {
      Map<String, String> annotations = Map.of("summary", summary, "description", description, "runbook_url",
          "https://github.com/telemetry-gateway/telemetry-gateway/blob/main/docs/runbooks/" + runbook + ".md");
      Alert a = new Alert(labels, annotations, Instant.ofEpochMilli(now), null,
          (alerting != null ? alerting.externalUrl() : "") + "/api/v1/forecasts");
      firing.put(key, a);
      LOG.info("forecast alert firing: " + summary);
      if (alerting != null) {
        alerting.fire(a);
      }
    } else if (current != null && off) {
      firing.remove(key);
      Alert r = new Alert(current.labels(), current.annotations(), current.startsAt(), Instant.ofEpochMilli(now),
          current.generatorUrl());
      LOG.info("forecast alert resolved: " + current.annotations().get("summary"));
      if (alerting != null) {
        alerting.resolve(r);
      }
    }
  }

  private double value(String name, String exporter, String signal) {
    Gauge g = registry.find(name).tag("exporter", exporter).tag("signal", signal).gauge();
    return g == null ? Double.NaN : g.value();
  }

  private void gauge(String name, Map<String, String> tags, double value, String description) {
    String key = name + tags;
    gauges.computeIfAbsent(key, k -> {
      double[] h = new double[1];
      Gauge.Builder<double[]> b = Gauge.builder(name, h, x -> x[0]).description(description);
      tags.forEach(b::tag);
      b.register(registry);
      return h;
    })[0] = value;
  }

  private static Object finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static String human(double seconds) {
    if (!Double.isFinite(seconds)) {
      return "never";
    }
    if (seconds < 120) {
      return Math.round(seconds) + " s";
    }
    if (seconds < 7200) {
      return Math.round(seconds / 60) + " min";
    }
    return String.format(java.util.Locale.ROOT, "%.1f h", seconds / 3600);
  }

  /** {@code GET /api/v1/forecasts}. */
  public Future<JsonObject> view() {
    return Future.succeededFuture(lastView);
  }

  /** For tests: one round now. */
  public void evaluateNow() {
    vertx.runOnContext(v -> evaluate(System.currentTimeMillis()));
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.succeededFuture();
  }
}
