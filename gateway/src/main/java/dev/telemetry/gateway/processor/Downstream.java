package dev.telemetry.gateway.processor;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import java.util.function.Supplier;

/** Where a stateful stage (the tail sampler) hands what it releases: the pipeline's exporter queues. */
public interface Downstream {
  /**
   * Completes at once: succeeded when queued, failed (having queued nothing) when a queue or the heap ledger is full —
   * the caller keeps the data and tries again. {@code request} is built only when every queue has room, and once, so
   * a stage can keep its data in a cheaper form while the queues are full.
   */
  Future<Void> offer(Supplier<? extends Message> request, int items, int bytes);

  /**
   * At shutdown, for data that was acknowledged and found no room in time: queues that outlive the process
   * (persistent ones) take it beyond their bounds; the others count it as lost ({@code reason="shutdown"}). Returns
   * how many items were lost.
   */
  long keepAtShutdown(Supplier<? extends Message> request, int items, int bytes);
}
