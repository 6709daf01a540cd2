package dev.telemetry.gateway.alerting;

import dev.telemetry.gateway.config.AlertingConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Alert state and delivery: takes alert changes (firing, resolved), keeps what is firing and the recent history
 * ({@code GET /api/v1/alerts}; appended as JSON lines to the history file), counts them, and hands each change to
 * one outbox per configured Alertmanager (every one gets every alert, as Prometheus does for an HA pair). Confined
 * to one Vert.x context; {@link #fire}/{@link #resolve} may be called from anywhere.
 */
public final class Alerting {
  private static final Logger LOG = Logger.getLogger(Alerting.class.getName());
  static final int HISTORY = 500;

  private final Vertx vertx;
  private final AlertingConfig config;
  private final MeterRegistry registry;
  private final List<AlertmanagerOutbox> outboxes = new ArrayList<>();
  private final Map<String, Alert> firing = new LinkedHashMap<>();
  private final Deque<JsonObject> history = new ArrayDeque<>();
  private Context context;
  private long timer = -1;
  private final List<java.util.function.Consumer<Alert>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Is told every alert change (started firing, resolved) on the alerting context: automated remediations. */
  public void addListener(java.util.function.Consumer<Alert> listener) {
    listeners.add(listener);
  }

  public Alerting(Vertx vertx, AlertingConfig config, MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    io.micrometer.core.instrument.Gauge.builder("gateway.alerting.firing", firing, Map::size)
        .description("Alerts firing now").register(registry);
  }

  /** Starts delivering (on a context of its own). */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    return Future.future(p -> context.runOnContext(v -> {
      for (java.net.URI am : config.alertmanagers()) {
        outboxes.add(new AlertmanagerOutbox(vertx, am, config.resendInterval(), config.timeout(),
            config.maxPending(), registry));
      }
      timer = vertx.setPeriodic(500, id -> outboxes.forEach(AlertmanagerOutbox::tick));
      p.complete();
    }));
  }

  /** The alert starts (or goes on) firing. */
  public void fire(Alert alert) {
    onContext(() -> change(alert));
  }

  /** The alert is resolved (its endsAt set). */
  public void resolve(Alert alert) {
    onContext(() -> change(alert));
  }

  /**
   * Stops tracking a firing alert without resolving it: another cluster member now sends it (Alertmanager sees one
   * alert, from whoever owns it).
   */
  public void forget(Alert alert) {
    onContext(() -> {
      if (firing.remove(alert.key()) != null) {
        outboxes.forEach(o -> o.forget(alert.key()));
      }
    });
  }

  private void onContext(Runnable r) {
    Context c = context;
    if (c == null) {
      throw new IllegalStateException("alerting is not started");
    }
    c.runOnContext(v -> r.run());
  }

  private void change(Alert alert) {
    String key = alert.key();
    if (alert.firing()) {
      if (firing.put(key, alert) != null) {
        return; // already firing: the outbox re-sends it
      }
    } else if (firing.remove(key) == null) {
      return; // not firing here: nothing to resolve
    }
    String state = alert.firing() ? "firing" : "resolved";
    Counter.builder("gateway.alerting.transitions").tag("state", state)
        .tag("severity", alert.labels().getOrDefault("severity", "")).description("Alerts that started firing or "
            + "were resolved").register(registry).increment();
    JsonObject entry = new JsonObject().put("at", java.time.Instant.now().toString()).put("state", state)
        .put("alert", alert.toJson(alert.startsAt()));
    history.addLast(entry);
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
    LOG.info("alert " + state + ": " + alert.labels() + " " + alert.annotations().getOrDefault("summary", ""));
    if (config.historyFile() != null) {
      String line = entry.encode() + "\n";
      vertx.executeBlocking(() -> {
        if (config.historyFile().getParent() != null) {
          Files.createDirectories(config.historyFile().getParent());
        }
        Files.writeString(config.historyFile(), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        return null;
      }, true).onFailure(e -> LOG.warning("cannot append to the alert history " + config.historyFile() + ": " + e));
    }
    outboxes.forEach(o -> o.offer(alert));
    outboxes.forEach(AlertmanagerOutbox::tick);
    for (java.util.function.Consumer<Alert> l : listeners) {
      try {
        l.accept(alert);
      } catch (RuntimeException e) {
        LOG.warning("alert listener failed: " + e);
      }
    }
  }

  /** {@code GET /api/v1/alerts}: what fires now, and the recent changes (newest last). */
  public Future<JsonObject> view() {
    return Future.future(p -> onContext(() -> {
      JsonArray now = new JsonArray();
      firing.values().forEach(a -> now.add(a.toJson(a.startsAt()).put("state", "firing")));
      JsonObject pending = new JsonObject();
      for (int i = 0; i < outboxes.size(); i++) {
        pending.put(config.alertmanagers().get(i).toString(), outboxes.get(i).pending());
      }
      p.complete(new JsonObject().put("firing", now).put("history", new JsonArray(new ArrayList<>(history)))
          .put("outbox", pending));
    }));
  }

  public String externalUrl() {
    return config.externalUrl();
  }

  public Future<Void> stop() {
    if (context == null) {
      return Future.succeededFuture();
    }
    return Future.future(p -> context.runOnContext(v -> {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      outboxes.forEach(AlertmanagerOutbox::tick); // one last attempt for what waits
      vertx.setTimer(300, id -> {
        outboxes.forEach(AlertmanagerOutbox::close);
        p.complete();
      });
    }));
  }
}
