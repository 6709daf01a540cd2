package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import dev.telemetry.gateway.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TailSamplerTest {
  final Vertx vertx = Vertx.vertx();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final RecordingDownstream downstream = new RecordingDownstream();
  final List<Span> emitted = downstream.emitted;
  final AtomicBoolean downstreamFull = downstream.full;

  @AfterEach
  void close() {
    vertx.close().await();
  }

  static final SamplingPolicy MARKED = new SamplingPolicy.StringAttribute("marked", "marker", List.of("yes"), false,
      false);

  TailSampler sampler(Duration wait, long budget, SamplingPolicy... policies) throws Exception {
    TailSampler s = new TailSampler(new TailSamplingProcessorConfig("ts", wait, budget, 1000, 1000,
        List.of(policies)), registry);
    s.downstream(downstream);
    vertx.deployVerticle(s).await(5, TimeUnit.SECONDS);
    return s;
  }

  static ByteString traceId(long n) {
    return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(42).putLong(n).array());
  }

  static Span span(long trace, long spanNo, boolean marked) {
    Span.Builder b = Span.newBuilder().setTraceId(traceId(trace))
        .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(trace * 1000 + spanNo + 1).array()))
        .setName("s" + spanNo).setStartTimeUnixNano(1).setEndTimeUnixNano(2);
    if (marked) {
      b.addAttributes(KeyValue.newBuilder().setKey("marker").setValue(AnyValue.newBuilder().setStringValue("yes")));
    }
    return b.build();
  }

  static ExportTraceServiceRequest request(List<Span> spans) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue("svc")))).addScopeSpans(ScopeSpans.newBuilder()
            .addAllSpans(spans))).build();
  }

  /**
   * For any arrival order and batching of the spans of many traces, each trace is kept whole or dropped whole: the
   * policy looks at one attribute on one random span, so a sampler that decided on partial traces would split them.
   */
  @Test
  void tracesAreKeptOrDroppedWholeWhateverTheOrderAndBatching() throws Exception {
    for (int seed = 1; seed <= 25; seed++) {
      emitted.clear();
      TailSampler s = sampler(Duration.ofMillis(150), 64L << 20, MARKED);
      Random r = new Random(seed);
      Map<ByteString, Integer> sizes = new HashMap<>();
      Set<ByteString> marked = new HashSet<>();
      List<Span> all = new ArrayList<>();
      for (long t = 0; t < 40; t++) {
        int n = 1 + r.nextInt(8);
        int markAt = r.nextBoolean() ? r.nextInt(n) : -1;
        for (int i = 0; i < n; i++) {
          all.add(span(seed * 100 + t, i, i == markAt));
        }
        sizes.put(traceId(seed * 100 + t), n);
        if (markAt >= 0) {
          marked.add(traceId(seed * 100 + t));
        }
      }
      Collections.shuffle(all, r);
      for (int i = 0; i < all.size(); ) {
        int batch = 1 + r.nextInt(10);
        assertThat(s.accept(request(all.subList(i, Math.min(all.size(), i + batch)))).succeeded()).isTrue();
        i += batch;
      }
      int expected = marked.stream().mapToInt(sizes::get).sum();
      int currentSeed = seed;
      Await.until(() -> "sampled spans emitted (seed " + currentSeed + ")", Duration.ofSeconds(10),
          () -> emitted.size() == expected);
      Await.until("budget released", Duration.ofSeconds(5), () -> s.chargedBytes() == 0);
      Map<ByteString, Integer> got = new HashMap<>();
      emitted.forEach(sp -> got.merge(sp.getTraceId(), 1, Integer::sum));
      assertThat(got.keySet()).as("seed %d", seed).isEqualTo(marked);
      got.forEach((id, n) -> assertThat(n).as("seed %d: spans of a kept trace", currentSeed).isEqualTo(sizes.get(id)));
      vertx.undeploy(vertx.deploymentIDs().iterator().next()).await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void lateSpansFollowTheDecision() throws Exception {
    TailSampler s = sampler(Duration.ofMillis(50), 64L << 20, MARKED);
    s.accept(request(List.of(span(1, 0, true), span(2, 0, false))));
    Await.until("trace 1 emitted", Duration.ofSeconds(5), () -> emitted.size() == 1);
    Await.until("both decided", Duration.ofSeconds(5), () -> counter("gateway.processor.tail_sampling.traces",
        "not_sampled") == 1);
    s.accept(request(List.of(span(1, 1, false), span(2, 1, true))));
    Await.until("late span of the kept trace emitted", Duration.ofSeconds(5), () -> emitted.size() == 2);
    assertThat(emitted.get(1).getTraceId()).isEqualTo(traceId(1));
    Await.until("late spans counted", Duration.ofSeconds(5), () ->
        counter("gateway.processor.tail_sampling.late_spans", "sampled") == 1
            && counter("gateway.processor.tail_sampling.late_spans", "not_sampled") == 1);
    Await.until("nothing left charged", Duration.ofSeconds(5), () -> s.chargedBytes() == 0);
  }

  @Test
  void theMemoryBudgetIsNeverExceededOldestAreDecidedEarlyAndTheRestRefused() throws Exception {
    long perSpan = TailSampler.charge(span(1, 0, false));
    TailSampler s = sampler(Duration.ofSeconds(60), perSpan * 10, new SamplingPolicy.AlwaysSample("all"));
    downstreamFull.set(true); // decided traces cannot leave: they stay charged
    int accepted = 0;
    int refused = 0;
    for (long t = 0; t < 30; t++) {
      Future<Void> f = s.accept(request(List.of(span(t, 0, false))));
      if (f.succeeded()) {
        accepted++;
      } else {
        assertThat(f.cause()).isInstanceOf(dev.telemetry.gateway.backpressure.RefusedException.class);
        refused++;
      }
      assertThat(s.chargedBytes()).isLessThanOrEqualTo(perSpan * 10);
    }
    assertThat(accepted).isEqualTo(10);
    assertThat(refused).isEqualTo(20);
    Await.until("early decisions counted", Duration.ofSeconds(5),
        () -> counter("gateway.processor.tail_sampling.early_decisions", null) >= 1);
    downstreamFull.set(false); // held traces are offered again and the budget frees up
    Await.until("all accepted spans emitted", Duration.ofSeconds(90), () -> {
      s.flush(1000);
      return emitted.size() == 10;
    });
    Await.until("budget released", Duration.ofSeconds(5), () -> s.chargedBytes() == 0);
  }

  /**
   * The warm-up before ready runs a request's span encoding and keeps nothing: with a policy that keeps everything,
   * a flush afterwards emits only the real trace, nothing stays charged, and no trace of the warm-up is counted.
   */
  @Test
  void theWarmUpEncodesSpansButBuffersAndCountsNothing() throws Exception {
    TailSampler s = sampler(Duration.ofMinutes(5), 64L << 20, new SamplingPolicy.AlwaysSample("all"));
    assertThat(s.warmUp(dev.telemetry.gateway.otlp.Warmup.request(dev.telemetry.gateway.otlp.Signal.TRACES)
        instanceof ExportTraceServiceRequest r ? r : null)).isEqualTo(50);
    assertThat(s.chargedBytes()).isZero();
    s.accept(request(List.of(span(1, 0, false))));
    s.flush(5000).await(10, TimeUnit.SECONDS);
    assertThat(emitted).hasSize(1).allSatisfy(sp -> assertThat(sp.getTraceId()).isEqualTo(traceId(1)));
    assertThat(counter("gateway.processor.tail_sampling.traces", "sampled")).isEqualTo(1);
    assertThat(s.chargedBytes()).isZero();
  }

  @Test
  void flushDecidesEverythingBufferedAtShutdown() throws Exception {
    TailSampler s = sampler(Duration.ofMinutes(5), 64L << 20, MARKED);
    s.accept(request(List.of(span(1, 0, true), span(1, 1, false), span(2, 0, false))));
    Await.until("buffered", Duration.ofSeconds(5), () -> gauge("gateway.processor.tail_sampling.buffered.traces") == 2);
    s.flush(5000).await(10, TimeUnit.SECONDS);
    assertThat(emitted).hasSize(2).allSatisfy(sp -> assertThat(sp.getTraceId()).isEqualTo(traceId(1)));
    assertThat(s.chargedBytes()).isZero();
  }

  @Test
  void adoptedSpansJoinTheirTracesOnceAndSecondCopiesAreDropped() throws Exception {
    TailSampler s = sampler(Duration.ofMillis(500), 64L << 20, MARKED);
    List<ByteString> decidedIds = java.util.Collections.synchronizedList(new ArrayList<>());
    s.addDecisionListener((id, keep, spans) -> decidedIds.add(id));
    // Trace 1: a fresh span first, then a crashed owner's copies of it and of its marked span.
    s.accept(request(List.of(span(1, 0, false))));
    s.adopt(request(List.of(span(1, 0, false), span(1, 1, true))), Destination.DEFAULT,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300));
    // Then a retried forward of the marked span again: a second copy.
    s.accept(request(List.of(span(1, 1, true))));
    Await.until("trace 1 emitted", Duration.ofSeconds(5), () -> emitted.size() == 2);
    Thread.sleep(300);
    assertThat(emitted).extracting(Span::getSpanId).containsExactlyInAnyOrder(span(1, 0, false).getSpanId(),
        span(1, 1, true).getSpanId());
    assertThat(counter("gateway.processor.tail_sampling.duplicate_spans", null)).isEqualTo(2);
    assertThat(counter("gateway.processor.tail_sampling.adopted_spans", null)).isEqualTo(2);
    assertThat(decidedIds).containsExactly(traceId(1));
    Await.until("nothing charged", Duration.ofSeconds(5), () -> s.chargedBytes() == 0);
  }

  @Test
  void afterAMembershipChangeNewTracesWaitForHandOvers() throws Exception {
    TailSampler s = sampler(Duration.ofMillis(50), 64L << 20, MARKED);
    s.holdNewTraces(TimeUnit.MILLISECONDS.toNanos(600));
    s.accept(request(List.of(span(1, 0, false))));
    Thread.sleep(300); // past decision_wait: without the hold it would be decided without its marked span
    s.accept(request(List.of(span(1, 1, true))));
    Await.until("trace 1 emitted whole", Duration.ofSeconds(5), () -> emitted.size() == 2);
    assertThat(counter("gateway.processor.tail_sampling.late_spans", "not_sampled")).isZero();
  }

  double counter(String name, String decision) {
    var search = registry.find(name);
    if (decision != null) {
      search = search.tag("decision", decision);
    }
    return search.counters().stream().mapToDouble(c -> c.count()).sum();
  }

  double gauge(String name) {
    return registry.find(name).gauges().stream().mapToDouble(g -> g.value()).sum();
  }
}
