package dev.telemetry.gateway.alerting;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Delivers alerts to one Alertmanager through {@code POST /api/v2/alerts}, so none is lost while it is down: each
 * alert's newest state waits here until Alertmanager took it (2xx); firing alerts are sent again every resend
 * interval with an expiry of four intervals (Prometheus' convention: if the gateway goes away, Alertmanager resolves
 * them); resolved ones are sent until taken, then forgotten. Bounded: at most {@code maxPending} alerts wait (then
 * the oldest resolved one, else the oldest, is dropped and counted). Runs on one Vert.x context.
 */
final class AlertmanagerOutbox {
  private static final Logger LOG = Logger.getLogger(AlertmanagerOutbox.class.getName());
  private static final int BATCH = 200;

  private final Vertx vertx;
  private final URI base;
  private final WebClient client;
  private final Duration resend;
  private final Duration timeout;
  private final int maxPending;
  /** Waiting to be sent, by alert key, oldest first. */
  private final LinkedHashMap<String, Alert> pending = new LinkedHashMap<>();
  /** Firing alerts Alertmanager has, with when they were last sent. */
  private final Map<String, Alert> firing = new LinkedHashMap<>();
  private final Map<String, Long> sentAt = new java.util.HashMap<>();
  private final Counter sent;
  private final Counter failed;
  private final Counter dropped;
  private boolean inFlight;
  private long backoffUntil;
  private int failures;

  AlertmanagerOutbox(Vertx vertx, URI base, Duration resend, Duration timeout, int maxPending,
                     MeterRegistry registry) {
    this.vertx = vertx;
    this.base = base;
    this.resend = resend;
    this.timeout = timeout;
    this.maxPending = maxPending;
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout((int) timeout.toMillis()));
    String am = base.toString();
    sent = Counter.builder("gateway.alerting.notifications").tag("alertmanager", am).tag("outcome", "sent")
        .description("Alerts delivered to Alertmanager (each send of each alert)").register(registry);
    failed = Counter.builder("gateway.alerting.notifications").tag("alertmanager", am).tag("outcome", "failed")
        .description("Alerts delivered to Alertmanager (each send of each alert)").register(registry);
    dropped = Counter.builder("gateway.alerting.outbox.dropped").tag("alertmanager", am)
        .description("Alerts dropped from a full outbox (max_pending) before Alertmanager took them")
        .register(registry);
    Gauge.builder("gateway.alerting.outbox.pending", pending, Map::size).tag("alertmanager", am)
        .description("Alerts waiting for this Alertmanager").register(registry);
  }

  /** Queues the alert's new state (replacing an older one of the same alert). */
  void offer(Alert alert) {
    String key = alert.key();
    pending.remove(key);
    if (pending.size() >= maxPending) {
      String victim = pending.entrySet().stream().filter(e -> !e.getValue().firing()).map(Map.Entry::getKey)
          .findFirst().orElse(pending.keySet().iterator().next());
      pending.remove(victim);
      dropped.increment();
    }
    pending.put(key, alert);
    if (alert.firing()) {
      firing.put(key, alert);
    } else {
      firing.remove(key);
      sentAt.remove(key);
    }
  }

  /** Drops an alert another member sends now. */
  void forget(String key) {
    pending.remove(key);
    firing.remove(key);
    sentAt.remove(key);
  }

  /** Sends what is due: pending alerts, and firing ones whose resend interval passed. One request at a time. */
  void tick() {
    long now = System.currentTimeMillis();
    firing.forEach((key, alert) -> {
      Long at = sentAt.get(key);
      if (at != null && now - at >= resend.toMillis() && !pending.containsKey(key)) {
        pending.put(key, alert);
      }
    });
    if (inFlight || pending.isEmpty() || now < backoffUntil) {
      return;
    }
    List<Alert> batch = new ArrayList<>();
    for (Alert a : pending.values()) {
      batch.add(a);
      if (batch.size() == BATCH) {
        break;
      }
    }
    Instant expiry = Instant.ofEpochMilli(now).plus(resend.multipliedBy(4));
    JsonArray body = new JsonArray();
    batch.forEach(a -> body.add(a.toJson(expiry)));
    inFlight = true;
    client.postAbs(base.resolve("/api/v2/alerts").toString()).timeout(timeout.toMillis())
        .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body.encode()))
        .onComplete(ar -> {
          inFlight = false;
          if (ar.succeeded() && ar.result().statusCode() / 100 == 2) {
            failures = 0;
            long at = System.currentTimeMillis();
            for (Alert a : batch) {
              String key = a.key();
              if (pending.get(key) == a) {
                pending.remove(key); // a newer state that came meanwhile stays
              }
              if (a.firing()) {
                sentAt.put(key, at);
              }
            }
            sent.increment(batch.size());
            if (!pending.isEmpty()) {
              vertx.runOnContext(v -> tick());
            }
          } else {
            failed.increment(batch.size());
            failures++;
            long delay = Math.min(30_000, 500L << Math.min(failures, 6));
            backoffUntil = System.currentTimeMillis() + delay;
            String why = ar.succeeded() ? "HTTP " + ar.result().statusCode() + " " + ar.result().bodyAsString()
                : ar.cause().toString();
            if (failures == 1 || failures % 20 == 0) {
              LOG.warning("Alertmanager " + base + " did not take " + batch.size() + " alert(s) (" + why
                  + "); they wait in the outbox, retrying in " + delay + " ms (attempt " + failures + ")");
            }
          }
        });
  }

  int pending() {
    return pending.size();
  }

  void close() {
    client.close();
  }
}
