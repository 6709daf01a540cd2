package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.backpressure.RefusedException;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Payloads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Batching, bounds and all-or-nothing fan-out, with a recording exporter as the test seam. */
class ExporterQueueTest {
  final Vertx vertx = Vertx.vertx();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** Records each batch's item count; can hold all sends until released. */
  static final class RecordingExporter implements Exporter {
    final List<Integer> batches = new CopyOnWriteArrayList<>();
    final List<Promise<ExportResult>> held = new CopyOnWriteArrayList<>();
    volatile boolean hold;
    /** Like a real client closed under a send: stop fails what is held, on the caller's thread. */
    volatile boolean failHeldOnStop;

    @Override
    public Future<Void> start() {
      return Future.succeededFuture();
    }

    @Override
    public Future<ExportResult> export(Message request, int items) {
      assertThat(Signal.TRACES.itemCount(request)).isEqualTo(items);
      batches.add(items);
      if (hold) {
        Promise<ExportResult> p = Promise.promise();
        held.add(p);
        return p.future();
      }
      return Future.succeededFuture(ExportResult.OK);
    }

    @Override
    public Future<Void> stop() {
      if (failHeldOnStop) {
        held.forEach(p -> p.tryFail(new IllegalStateException("Client is closed")));
      }
      return Future.succeededFuture();
    }

    int total() {
      return batches.stream().mapToInt(Integer::intValue).sum();
    }
  }

  @AfterEach
  void close() {
    vertx.close().await();
  }

  ExporterQueue queue(String name, RecordingExporter exporter, QueueConfig q, BatchConfig b) throws Exception {
    ExporterVerticle v = new ExporterVerticle(ctx -> new ExporterQueue(name, Signal.TRACES, exporter, ctx, q, b,
        RetryConfig.DEFAULTS, registry));
    vertx.deployVerticle(v).await(5, TimeUnit.SECONDS);
    return v.queue();
  }

  static Future<Void> offer(Pipeline p, int spans) {
    Message m = Payloads.traces("q", spans);
    return p.offer(m, spans, m.getSerializedSize());
  }

  @Test
  void batchesCloseAtMaxItemsWithoutSplittingRequests() throws Exception {
    RecordingExporter e = new RecordingExporter();
    Pipeline p = new Pipeline(Signal.TRACES, List.of(queue("e", e, QueueConfig.DEFAULTS,
        new BatchConfig(10, 1 << 20, Duration.ofSeconds(30)))));
    for (int i = 0; i < 5; i++) {
      assertThat(offer(p, 4).succeeded()).isTrue();
    }
    Await.until("two full batches", Duration.ofSeconds(5), () -> e.batches.size() == 2);
    assertThat(e.batches).containsExactly(8, 8); // 4 items still wait for the 30s timeout
    p.queues().get(0).drainAndStop(5000).await(10, TimeUnit.SECONDS);
    assertThat(e.batches).containsExactly(8, 8, 4);
  }

  @Test
  void partialBatchesLeaveAfterTheTimeout() throws Exception {
    RecordingExporter e = new RecordingExporter();
    Pipeline p = new Pipeline(Signal.TRACES, List.of(queue("e", e, QueueConfig.DEFAULTS,
        new BatchConfig(1000, 1 << 20, Duration.ofMillis(100)))));
    offer(p, 1);
    offer(p, 2);
    offer(p, 3);
    Await.until("one timed batch", Duration.ofSeconds(5), () -> e.batches.size() == 1);
    assertThat(e.batches).containsExactly(6);
  }

  @Test
  void batchesCloseAtMaxBytes() throws Exception {
    RecordingExporter e = new RecordingExporter();
    int oneRequest = Payloads.traces("q", 1).getSerializedSize();
    Pipeline p = new Pipeline(Signal.TRACES, List.of(queue("e", e, QueueConfig.DEFAULTS,
        new BatchConfig(1000, 2L * oneRequest + oneRequest / 2, Duration.ofSeconds(30)))));
    for (int i = 0; i < 7; i++) { // a batch leaves once 2.5 requests' worth waits, carrying the 2 that fit
      offer(p, 1);
    }
    Await.until("three byte-bounded batches", Duration.ofSeconds(5), () -> e.batches.size() == 3);
    assertThat(e.batches).containsExactly(2, 2, 2);
  }

  @Test
  void fanOutIsAllOrNothingAndBoundsHold() throws Exception {
    RecordingExporter fast = new RecordingExporter();
    RecordingExporter slow = new RecordingExporter();
    slow.hold = true;
    ExporterQueue big = queue("big", fast, QueueConfig.DEFAULTS, new BatchConfig(1, 1 << 20, Duration.ZERO));
    ExporterQueue small = queue("small", slow, new QueueConfig(10, 1 << 20, 1),
        new BatchConfig(1, 1 << 20, Duration.ZERO));
    Pipeline p = new Pipeline(Signal.TRACES, List.of(big, small));
    assertThat(offer(p, 6).succeeded()).isTrue();
    assertThat(offer(p, 4).succeeded()).isTrue();
    Future<Void> refused = offer(p, 1);
    assertThat(refused.failed()).isTrue();
    assertThat(((RefusedException) refused.cause()).reason())
        .isEqualTo(RefusedException.Reason.QUEUE_FULL);
    assertThat(refused.cause()).hasMessageContaining("exporter \"small\"");
    Await.until("fast exporter got both accepted requests", Duration.ofSeconds(5), () -> fast.total() == 10);
    assertThat(fast.total()).as("the refused request reached no queue").isEqualTo(10);
    assertThat(small.size()).isEqualTo(10);

    Await.until("slow exporter holds its first batch", Duration.ofSeconds(5), () -> slow.held.size() == 1);
    slow.held.get(0).complete(ExportResult.OK); // from a foreign thread: the queue must hop back to its context
    Await.until("slow exporter's first send released room", Duration.ofSeconds(5), () -> small.size() < 10);
    slow.hold = false;
    Await.until("room again", Duration.ofSeconds(5), () -> offer(p, 1).succeeded());
  }

  /**
   * A memory queue whose backend never answers: at the shutdown timeout what it holds (in flight and waiting) is
   * counted as lost once, even though stopping the exporter then fails the send in flight.
   */
  @Test
  void shutdownCountsWhatAMemoryQueueLosesOnce() throws Exception {
    RecordingExporter e = new RecordingExporter();
    e.hold = true;
    e.failHeldOnStop = true;
    ExporterQueue q = queue("mem", e, new QueueConfig(1000, 1 << 20, 1), new BatchConfig(4, 1 << 20, Duration.ZERO));
    Pipeline p = new Pipeline(Signal.TRACES, List.of(q));
    for (int i = 0; i < 3; i++) {
      assertThat(offer(p, 4).succeeded()).isTrue();
    }
    Await.until("one batch in flight", Duration.ofSeconds(5), () -> e.held.size() == 1);
    q.drainAndStop(200).await(5, TimeUnit.SECONDS);
    assertThat(q.shutdownOutcome()).isEqualTo(new ExporterQueue.ShutdownOutcome("mem", Signal.TRACES, false, 12, 0));
    assertThat(registry.get("gateway.exporter.items.failed").tag("reason", "shutdown").counter().count())
        .isEqualTo(12);
  }

  @Test
  void aRequestLargerThanTheQueueIsTakenWhenTheQueueIsEmpty() throws Exception {
    RecordingExporter e = new RecordingExporter();
    e.hold = true;
    ExporterQueue q = queue("e", e, new QueueConfig(5, 1 << 20, 1), new BatchConfig(100, 1 << 20, Duration.ZERO));
    Pipeline p = new Pipeline(Signal.TRACES, List.of(q));
    assertThat(offer(p, 8).succeeded()).isTrue();
    assertThat(offer(p, 1).failed()).isTrue();
  }
}
