package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;
import dev.telemetry.gateway.processor.Downstream;
import io.vertx.core.Future;
import java.util.List;
import java.util.function.Supplier;

/** Exporter queues as one {@link Downstream}: a request goes into all of them or none. */
final class QueueFanOut implements Downstream {
  private final List<ExporterQueue> queues;

  QueueFanOut(List<ExporterQueue> queues) {
    this.queues = List.copyOf(queues);
  }

  @Override
  public Future<Void> offer(Supplier<? extends Message> request, int items, int bytes) {
    return Pipeline.offerToQueues(queues, request, items, bytes);
  }

  @Override
  public long keepAtShutdown(Supplier<? extends Message> request, int items, int bytes) {
    Supplier<Message> once = Pipeline.once(request);
    long lost = 0;
    for (ExporterQueue q : queues) {
      lost = Math.max(lost, q.keepAtShutdown(once, items, bytes));
    }
    return lost;
  }
}
