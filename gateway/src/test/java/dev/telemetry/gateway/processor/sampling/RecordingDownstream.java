package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.Message;
import dev.telemetry.gateway.processor.Downstream;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** Where a sampler under test emits: records the spans it takes, and refuses like full queues when told to. */
final class RecordingDownstream implements Downstream {
  final List<Span> emitted = new CopyOnWriteArrayList<>();
  final AtomicBoolean full = new AtomicBoolean();
  /** Items handed over at shutdown beyond the bounds (a memory queue would lose them: counted as lost). */
  final AtomicLong keptAtShutdown = new AtomicLong();

  @Override
  public Future<Void> offer(Supplier<? extends Message> request, int items, int bytes) {
    if (full.get()) {
      return Future.failedFuture("full");
    }
    ((ExportTraceServiceRequest) request.get()).getResourceSpansList().forEach(rs -> rs.getScopeSpansList()
        .forEach(ss -> emitted.addAll(ss.getSpansList())));
    return Future.succeededFuture();
  }

  @Override
  public long keepAtShutdown(Supplier<? extends Message> request, int items, int bytes) {
    keptAtShutdown.addAndGet(items);
    return items;
  }
}
