package dev.telemetry.gateway.receiver.otlp;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.OtlpValidator;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.otlp.WireScan;
import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.vertx.core.Future;

/**
 * What both OTLP transports do with a decoded request: validate its items, count them, hand the valid ones to the
 * pipelines and turn the outcome into the export response (with a partial success when items were rejected).
 */
final class OtlpIngest {
  private final String receiver;
  private final TelemetryConsumer consumer;
  private final ReceiverMetrics metrics;
  private final HeapLedger heap;

  OtlpIngest(String receiver, TelemetryConsumer consumer, ReceiverMetrics metrics, HeapLedger heap) {
    this.receiver = receiver;
    this.consumer = consumer;
    this.metrics = metrics;
    this.heap = heap;
  }

  /**
   * Charges, before decoding, what a request holds until the pipeline has answered: its body as received, the
   * inflated bytes and the decoded request — the larger of the usual cost per encoded byte and what the wire scan
   * counted ({@code shape}; null for JSON, already decoded). Returns the charge to {@link #release}, or throws
   * {@link RefusedException} (MEMORY_LIMIT) when the heap ledger is full: then nothing is decoded.
   */
  long admit(Signal signal, int wireBytes, int decodedBytes, WireScan.Shape shape) {
    long parsed = signal.parsedHeapBytes(decodedBytes);
    if (shape != null) {
      parsed = Math.max(parsed, shape.heapBytes(decodedBytes));
    }
    long charge = (long) wireBytes + (decodedBytes == wireBytes ? 0 : decodedBytes) + parsed;
    if (charge > heap.limit()) {
      throw new TooLarge("the request would take about " + (charge >> 20) + " MiB of heap once decoded, more than "
          + "the whole memory limit (" + (heap.limit() >> 20) + " MiB): split it into smaller requests");
    }
    if (!heap.tryCharge(charge)) {
      throw heap.full();
    }
    return charge;
  }

  /** A request that could never be admitted, however long its client waited: it must be split, not retried. */
  static final class TooLarge extends RuntimeException {
    TooLarge(String message) {
      super(message, null, false, false);
    }
  }

  /** The request is in the pipeline's hands, or refused: what {@link #admit} charged is freed. */
  void release(long charge) {
    heap.free(charge);
  }

  String receiver() {
    return receiver;
  }

  ReceiverMetrics metrics() {
    return metrics;
  }

  boolean accepts(Signal signal) {
    return consumer.accepts(receiver, signal);
  }

  /** The request's credential checked (nothing to check without authentication); throws AccessDenied. */
  RequestHeaders authenticate(Signal signal, RequestHeaders headers) {
    return consumer.authenticate(receiver, signal, headers);
  }

  /**
   * Ingests one decoded request; {@code protobufBytes} is its protobuf size when known (else -1). Completes with the
   * export response, or fails with {@link RefusedException} when the client should retry.
   */
  Future<Message> ingest(String transport, Signal signal, Message request, int protobufBytes,
                         RequestHeaders headers) {
    OtlpValidator.Result v = OtlpValidator.validate(signal, request);
    metrics.received(transport, signal, (long) v.accepted() + v.rejected());
    metrics.refusedItems(transport, signal, "invalid", v.rejected());
    Message response = signal.response(v.rejected(), v.errorMessage());
    if (v.accepted() == 0) {
      return Future.succeededFuture(response);
    }
    int bytes = v.rejected() == 0 && protobufBytes >= 0 ? protobufBytes : v.request().getSerializedSize();
    return answer(transport, signal, consumer.consume(receiver, signal, v.request(), v.accepted(), bytes, headers),
        v.accepted(), response);
  }

  /**
   * Ingests a protobuf request that passed the wire scan without decoding it, when the pipelines can take it so
   * ({@link TelemetryConsumer#consumeEncoded}); null when it must be decoded and {@link #ingest}ed instead.
   */
  Future<Message> ingestEncoded(String transport, Signal signal, byte[] protobuf, RequestHeaders headers) {
    TelemetryConsumer.EncodedIntake taken = consumer.consumeEncoded(receiver, signal, protobuf, headers);
    if (taken == null) {
      return null;
    }
    metrics.received(transport, signal, taken.items());
    metrics.undecoded(transport, signal, taken.items());
    return answer(transport, signal, taken.outcome(), taken.items(), signal.response(0, null));
  }

  private Future<Message> answer(String transport, Signal signal, Future<Void> outcome, int items, Message response) {
    return outcome.transform(ar -> {
      if (ar.succeeded()) {
        metrics.accepted(transport, signal, items);
        return Future.succeededFuture(response);
      }
      String reason = ar.cause() instanceof RefusedException pr ? pr.reason().tag() : "error";
      metrics.refusedItems(transport, signal, reason, items);
      return Future.failedFuture(ar.cause());
    });
  }
}
