package dev.telemetry.gateway.receiver.otlp;

import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Counters of one receiver: items received, accepted and refused (by reason), and whole requests refused before
 * their items could be counted (by reason). Tags: receiver, transport (grpc|http), signal, reason.
 */
final class ReceiverMetrics {
  private final MeterRegistry registry;
  private final String receiver;
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

  ReceiverMetrics(MeterRegistry registry, String receiver) {
    this.registry = registry;
    this.receiver = receiver;
  }

  private Counter counter(String name, String description, String transport, String signal, String reason) {
    String key = name + '|' + transport + '|' + signal + '|' + reason;
    return counters.computeIfAbsent(key, k -> {
      Counter.Builder b = Counter.builder(name).description(description)
          .tag("receiver", receiver).tag("transport", transport).tag("signal", signal);
      if (reason != null) {
        b.tag("reason", reason);
      }
      return b.register(registry);
    });
  }

  void received(String transport, Signal signal, long items) {
    counter("gateway.receiver.items.received", "Items in valid client requests", transport, signal.id(), null)
        .increment(items);
  }

  /** Of the items received, those taken without decoding them (their pipeline works on encoded spans). */
  void undecoded(String transport, Signal signal, long items) {
    counter("gateway.receiver.items.undecoded", "Items received and taken without decoding them (their pipeline "
        + "works on encoded spans); a part of gateway_receiver_items_received", transport, signal.id(), null)
        .increment(items);
  }

  void accepted(String transport, Signal signal, long items) {
    counter("gateway.receiver.items.accepted", "Items queued for export (client told success)", transport,
        signal.id(), null).increment(items);
  }

  void refusedItems(String transport, Signal signal, String reason, long items) {
    if (items > 0) {
      counter("gateway.receiver.items.refused", "Items not accepted, by reason", transport, signal.id(), reason)
          .increment(items);
    }
  }

  /** A request refused before decoding (too large, malformed, wrong type...); {@code signal} may be unknown. */
  void refusedRequest(String transport, Signal signal, String reason) {
    counter("gateway.receiver.requests.refused", "Requests refused, by reason", transport,
        signal == null ? "unknown" : signal.id(), reason).increment();
  }
}
