package dev.telemetry.gateway.console;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A few recent requests per signal, as received (before processors), for the console's "explain a sample". Bounded
 * three ways so it costs nothing measurable on the data path: at most one request per signal per {@code interval},
 * only requests of at most {@code maxBytes} encoded, and the last {@code perSignal} of each. The hot path only reads a
 * timestamp and, once per interval, swaps a reference; the protobuf message is immutable, so it is kept as is and
 * printed as OTLP/JSON only when someone asks.
 */
public final class SampleBook {
  /** One kept request. */
  public record Sample(Signal signal, Instant receivedAt, String receiver, String tenant, int items, int bytes,
                       Message request) {
    JsonObject describe() {
      return new JsonObject().put("signal", signal.id()).put("received_at", receivedAt.toString())
          .put("receiver", receiver).put("tenant", tenant).put("items", items).put("bytes", bytes)
          .put("payload", new JsonObject(new String(OtlpJson.write(request), StandardCharsets.UTF_8)));
    }
  }

  private final int perSignal;
  private final int maxBytes;
  private final long intervalMillis;
  private final Clock clock;
  private final Map<Signal, AtomicLong> lastTaken = new EnumMap<>(Signal.class);
  private final Map<Signal, Deque<Sample>> kept = new EnumMap<>(Signal.class);

  public SampleBook(int perSignal, int maxBytes, long intervalMillis, Clock clock) {
    if (perSignal < 1 || maxBytes < 1 || intervalMillis < 0) {
      throw new IllegalArgumentException("perSignal and maxBytes must be positive, intervalMillis not negative");
    }
    this.perSignal = perSignal;
    this.maxBytes = maxBytes;
    this.intervalMillis = intervalMillis;
    this.clock = clock;
    for (Signal s : Signal.values()) {
      lastTaken.put(s, new AtomicLong(Long.MIN_VALUE / 2));
      kept.put(s, new ArrayDeque<>());
    }
  }

  /** Called for every accepted request (any thread); keeps it when its signal's interval has passed. */
  public void offer(Signal signal, String receiver, String tenant, Message request, int items, int bytes) {
    offer(signal, receiver, tenant, () -> request, items, bytes);
  }

  /**
   * As {@link #offer(Signal, String, String, Message, int, int)} for a request built only if it is kept (null from
   * {@code request}: none to keep).
   */
  public void offer(Signal signal, String receiver, String tenant,
                    java.util.function.Supplier<? extends Message> request, int items, int bytes) {
    if (bytes > maxBytes) {
      return;
    }
    long now = clock.millis();
    AtomicLong last = lastTaken.get(signal);
    long previous = last.get();
    if (now - previous < intervalMillis || !last.compareAndSet(previous, now)) {
      return;
    }
    Message taken = request.get(); // built only when one is taken: the receivers may not have decoded it
    if (taken == null) {
      return;
    }
    int size = bytes >= 0 ? bytes : taken.getSerializedSize();
    if (size > maxBytes) {
      return;
    }
    Sample s = new Sample(signal, Instant.ofEpochMilli(now), receiver, tenant, items, size, taken);
    Deque<Sample> q = kept.get(signal);
    synchronized (q) {
      q.addFirst(s);
      while (q.size() > perSignal) {
        q.removeLast();
      }
    }
  }

  /** The kept samples, newest first per signal; printing them as JSON costs CPU, so call off the event loop. */
  public List<Sample> samples() {
    List<Sample> out = new ArrayList<>();
    for (Deque<Sample> q : kept.values()) {
      synchronized (q) {
        out.addAll(q);
      }
    }
    out.sort((a, b) -> b.receivedAt().compareTo(a.receivedAt()));
    return out;
  }

  /** {@code {"samples": [...]}} with each request as OTLP/JSON. */
  public JsonObject view() {
    JsonArray list = new JsonArray();
    samples().forEach(s -> list.add(s.describe()));
    return new JsonObject().put("max_bytes", maxBytes).put("per_signal", perSignal)
        .put("interval_ms", intervalMillis).put("samples", list);
  }
}
