package dev.telemetry.gateway.receiver.otlp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connection-level limits of one listener, shared by its servers on every event loop: a cap on open connections
 * (the excess is closed at once), deadlines for a request's headers and body to arrive (a client trickling bytes is
 * cut off instead of holding a connection for ever; nothing ever waits on an event loop), and keepalive enforcement
 * for HTTP/2 (pings more often than {@code min_ping_interval}, three times, end the connection with GOAWAY
 * ENHANCE_YOUR_CALM, as gRPC servers do). Every cut is counted by reason in
 * {@code gateway_receiver_connections_closed_total}.
 */
final class ConnectionGuard {
  /** HTTP/2 error code ENHANCE_YOUR_CALM (RFC 9113 §7): what gRPC servers send on too many pings. */
  static final long ENHANCE_YOUR_CALM = 0xb;
  static final int PING_STRIKES = 2;

  private final Vertx vertx;
  private final ReceiverLimits limits;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentMap<HttpConnection, State> states = new ConcurrentHashMap<>();
  private final MeterRegistry registry;
  private final String receiver;
  private final String listener;
  private final ConcurrentMap<String, Counter> closed = new ConcurrentHashMap<>();

  /** Per connection; touched only on its event loop. */
  private static final class State {
    long timer = -1;
    long lastPing;
    int strikes;
    int requests;
  }

  ConnectionGuard(Vertx vertx, ReceiverLimits limits, MeterRegistry registry, String receiver, String listener) {
    this.vertx = vertx;
    this.limits = limits;
    this.registry = registry;
    this.receiver = receiver;
    this.listener = listener;
    Gauge.builder("gateway.receiver.connections", open::get).description("Open client connections")
        .tag("receiver", receiver).tag("listener", listener).register(registry);
  }

  int open() {
    return open.get();
  }

  /** Watches every connection {@code server} accepts. */
  void attach(HttpServer server) {
    server.connectionHandler(this::connected);
  }

  private void connected(HttpConnection conn) {
    if (open.incrementAndGet() > limits.maxConnections()) {
      open.decrementAndGet();
      count("max_connections");
      conn.close();
      return;
    }
    State s = new State();
    states.put(conn, s);
    conn.closeHandler(v -> {
      open.decrementAndGet();
      State gone = states.remove(conn);
      if (gone != null && gone.timer >= 0) {
        vertx.cancelTimer(gone.timer);
      }
    });
    try {
      conn.pingHandler(ping -> pinged(conn, s));
    } catch (UnsupportedOperationException | IllegalStateException http1) {
      // HTTP/1.x has no PING frames
    }
    // Until its first request's headers are complete (HTTP/1) or its first stream opens (HTTP/2).
    arm(conn, s, limits.readHeaderTimeout().toMillis(), "read_header_timeout");
  }

  /**
   * A request's headers have arrived: the body must follow within {@code read_timeout}. Returns false (the request
   * was answered) when it carries more header fields than allowed.
   */
  boolean admit(HttpServerRequest req, Runnable onTimeout) {
    HttpConnection conn = req.connection();
    State s = states.get(conn);
    boolean http2 = req.version() == HttpVersion.HTTP_2;
    if (s != null) {
      s.requests++;
      if (!http2 || s.requests == 1) {
        cancel(s);
      }
    }
    if (req.headers().size() > limits.maxHeaders()) {
      count("max_headers");
      req.response().setStatusCode(431).putHeader("connection", "close")
          .end("request has " + req.headers().size() + " header fields; the limit is " + limits.maxHeaders()
              + " (limits.max_headers)");
      return false;
    }
    long timer = vertx.setTimer(limits.readTimeout().toMillis(), t -> {
      if (!req.isEnded()) {
        count("read_timeout");
        onTimeout.run();
      }
    });
    // The end future completes (or fails, on a reset or close) without taking the receivers' end handler.
    req.end().onComplete(ar -> vertx.cancelTimer(timer));
    if (!http2) {
      req.response().endHandler(v -> {
        State now = states.get(conn);
        if (now != null) {
          // Keep-alive: the next request may idle for idle_timeout, then its headers get read_header_timeout.
          arm(conn, now, limits.idleTimeout().toMillis() + limits.readHeaderTimeout().toMillis(),
              "read_header_timeout");
        }
      });
    }
    return true;
  }

  private void pinged(HttpConnection conn, State s) {
    long now = System.nanoTime();
    if (s.lastPing != 0 && now - s.lastPing < limits.minPingInterval().toNanos()) {
      if (++s.strikes > PING_STRIKES) {
        count("too_many_pings");
        conn.goAway(ENHANCE_YOUR_CALM);
        conn.close();
        return;
      }
    }
    s.lastPing = now;
  }

  private void arm(HttpConnection conn, State s, long millis, String reason) {
    cancel(s);
    s.timer = vertx.setTimer(millis, t -> {
      s.timer = -1;
      count(reason);
      conn.close();
    });
  }

  private void cancel(State s) {
    if (s.timer >= 0) {
      vertx.cancelTimer(s.timer);
      s.timer = -1;
    }
  }

  private void count(String reason) {
    closed.computeIfAbsent(reason, r -> Counter.builder("gateway.receiver.connections.closed")
        .description("Client connections or requests cut off by a connection limit, by reason")
        .tag("receiver", receiver).tag("listener", listener).tag("reason", r).register(registry)).increment();
  }
}
