package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tail sampler's write-ahead log: one record per trace and request, replayed until its trace has left. */
class SamplerJournalTest {
  final Vertx vertx = Vertx.vertx();
  final RecordingDownstream downstream = new RecordingDownstream();
  final List<Span> emitted = downstream.emitted;
  final AtomicBoolean downstreamFull = downstream.full;
  SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @TempDir
  Path dir;

  @AfterEach
  void close() {
    vertx.close().await();
  }

  static Span span(long trace, long n, boolean marked) {
    return TailSamplerTest.span(trace, n, marked);
  }

  static ResourceSpans.Builder resource(String service) {
    return ResourceSpans.newBuilder().setSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue(service))));
  }

  static ScopeSpans.Builder scope(String name, Span... spans) {
    return ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName(name)).addAllSpans(List.of(spans));
  }

  /** The spans of a request as the sampler takes them in. */
  static List<Incoming> incoming(ExportTraceServiceRequest request) {
    List<Incoming> out = new java.util.ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          out.add(new Incoming(s.getTraceId(), Trace.Entry.of(rs.getResource(), rs.getSchemaUrl(), ss.getScope(),
              ss.getSchemaUrl(), s, java.util.Set.of(), false, 1, Destination.DEFAULT)));
        }
      }
    }
    return out;
  }

  /**
   * A request is split by trace, and each trace's record — written from the spans' buffer encodings — decodes to
   * exactly its spans, each under the resource and scope (and schema URLs) it came with.
   */
  @Test
  void eachTracesRecordHoldsItsSpansUnderTheirResourceAndScope() throws Exception {
    ExportTraceServiceRequest request = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(resource("cart").addScopeSpans(scope("http", span(1, 0, false), span(2, 0, true)))
            .addScopeSpans(scope("db", span(1, 1, false), span(3, 0, false)).setSchemaUrl("s")))
        .addResourceSpans(resource("pay").addScopeSpans(scope("grpc", span(2, 1, false), span(1, 2, true))))
        .build();
    List<List<Incoming>> traces = Incoming.byTrace(incoming(request));
    assertThat(traces).extracting(List::size).containsExactly(3, 2, 1);
    for (List<Incoming> trace : traces) {
      ByteString id = trace.get(0).traceId();
      SamplerJournal.Restored r = SamplerJournal.decode(3, 4, SamplerJournal.encode(List.of("jaeger"), trace), false);
      assertThat(r.request()).as("trace %s", id).isEqualTo(only(request, id));
      assertThat(r.exporters()).containsExactly("jaeger");
    }
    ExportTraceServiceRequest single = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(resource("cart").addScopeSpans(scope("http", span(9, 0, false), span(9, 1, false))))
        .build();
    assertThat(Incoming.byTrace(incoming(single))).hasSize(1);
    SamplerJournal.Restored own = SamplerJournal.decode(8, 99, SamplerJournal.encode(null, incoming(single)), false);
    assertThat(own.exporters()).isNull();
    assertThat(own.request()).isEqualTo(single);
  }

  /** The request with only trace {@code id}'s spans; resources and scopes without any left out. */
  static ExportTraceServiceRequest only(ExportTraceServiceRequest request, ByteString id) {
    ExportTraceServiceRequest.Builder out = ExportTraceServiceRequest.newBuilder();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      ResourceSpans.Builder rb = rs.toBuilder().clearScopeSpans();
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        List<Span> spans = ss.getSpansList().stream().filter(s -> s.getTraceId().equals(id)).toList();
        if (!spans.isEmpty()) {
          rb.addScopeSpans(ss.toBuilder().clearSpans().addAllSpans(spans));
        }
      }
      if (rb.getScopeSpansCount() > 0) {
        out.addResourceSpans(rb);
      }
    }
    return out.build();
  }

  TailSampler sampler(Duration wait) throws Exception {
    return sampler(wait, names -> Destination.DEFAULT);
  }

  TailSampler sampler(Duration wait, java.util.function.Function<List<String>, Destination> destinations)
      throws Exception {
    registry = new SimpleMeterRegistry();
    TailSampler s = new TailSampler(new TailSamplingProcessorConfig("ts", wait, 64L << 20, 1000, 1000,
        List.of(TailSamplerTest.MARKED)), registry);
    s.downstream(downstream);
    s.journal(new SamplerJournal(new SamplerJournal.Settings(dir.resolve("ts"), QueueConfig.Fsync.ALWAYS, Duration.ofSeconds(1),
        256 * 1024), "ts"));
    vertx.deployVerticle(s).await(5, TimeUnit.SECONDS);
    s.restore(destinations).await(5, TimeUnit.SECONDS);
    return s;
  }

  /** Stops a sampler as the gateway does: flush (nothing is decided), then undeploy (the journal closes). */
  void stop(TailSampler s) throws Exception {
    s.flush(500).await(5, TimeUnit.SECONDS);
    vertx.undeploy(vertx.deploymentIDs().iterator().next()).await(5, TimeUnit.SECONDS);
    assertThat(downstream.keptAtShutdown).as("with a journal, kept spans the queues cannot take stay in the journal")
        .hasValue(0);
  }

  double restored() {
    return registry.find("gateway.processor.tail_sampling.restored_spans").counter().count();
  }

  /**
   * Undecided traces survive a stop undecided, and late spans still join them after the restart; kept traces the
   * queues had no room for survive too; each is emitted once, whole; a later start restores nothing.
   */
  @Test
  void whatTheSamplerHeldIsDecidedOnceAfterARestart() throws Exception {
    TailSampler first = sampler(Duration.ofMinutes(5));
    assertThat(first.accept(TailSamplerTest.request(List.of(span(1, 0, true), span(1, 1, false), span(2, 0, false))))
        .await(5, TimeUnit.SECONDS)).isNull();
    assertThat(first.accept(TailSamplerTest.request(List.of(span(3, 0, true)))).await(5, TimeUnit.SECONDS)).isNull();
    stop(first);
    assertThat(first.journaledAtShutdown()).isEqualTo(4);
    assertThat(emitted).as("nothing decided at shutdown").isEmpty();

    TailSampler second = sampler(Duration.ofMinutes(5));
    assertThat(restored()).isEqualTo(4);
    assertThat(second.accept(TailSamplerTest.request(List.of(span(2, 1, false), span(4, 0, true))))
        .await(5, TimeUnit.SECONDS)).isNull();
    downstreamFull.set(true); // kept traces cannot leave: the journal still holds them
    second.context().runOnContext(v -> second.decideAll());
    Await.until("decided", Duration.ofSeconds(5), () -> registry.find("gateway.processor.tail_sampling.traces")
        .counters().stream().mapToDouble(c -> c.count()).sum() == 4);
    stop(second);
    assertThat(second.journaledAtShutdown()).as("kept traces 1, 3, 4 waiting for room").isEqualTo(4);
    assertThat(emitted).isEmpty();

    TailSampler third = sampler(Duration.ofMillis(100));
    assertThat(restored()).as("trace 2 was dropped: its records are done").isEqualTo(4);
    downstreamFull.set(false);
    Await.until("kept traces emitted", Duration.ofSeconds(5), () -> emitted.size() == 4);
    assertThat(emitted).extracting(Span::getTraceId).containsOnly(TailSamplerTest.traceId(1),
        TailSamplerTest.traceId(3), TailSamplerTest.traceId(4));
    Await.until("nothing left charged", Duration.ofSeconds(5), () -> third.chargedBytes() == 0);
    assertThat(registry.find("gateway.processor.tail_sampling.traces").counters().stream()
        .mapToDouble(c -> c.count()).sum()).as("kept before the stop: emitted, not decided again").isZero();
    stop(third);
    assertThat(third.journaledAtShutdown()).isZero();

    sampler(Duration.ofMillis(100));
    assertThat(restored()).as("every record was done: nothing replayed twice").isZero();
    assertThat(emitted).hasSize(4);
  }

  /** Spans routed to a route's exporters go there again after a restart, resolved by name in the new process. */
  @Test
  void routedSpansGoToTheirRoutesExportersAfterARestart() throws Exception {
    TailSampler first = sampler(Duration.ofMinutes(5));
    Destination routed = new Destination(List.of("archive"), null);
    first.reserve(TailSamplerTest.request(List.of(span(5, 0, true))), routed).commit().await(5, TimeUnit.SECONDS);
    stop(first);

    RecordingDownstream archive = new RecordingDownstream();
    List<Span> archived = archive.emitted;
    List<List<String>> asked = new CopyOnWriteArrayList<>();
    sampler(Duration.ofMillis(50), names -> {
      asked.add(names);
      return new Destination(names, archive);
    });
    Await.until("the restored trace reached the route's exporters", Duration.ofSeconds(5), () -> archived.size() == 1);
    assertThat(asked).containsExactly(List.of("archive"));
    assertThat(emitted).as("nothing went to the pipeline's own exporters").isEmpty();
  }

  /**
   * A journal that held nothing at its stop leaves no files; one that still held spans does, and if its sampler is no
   * longer configured it is reported as an orphan (the gateway warns at start).
   */
  @Test
  void onlyJournalsThatStillHoldSpansAreReportedWhenTheirSamplerIsGone() throws Exception {
    TailSampler empty = sampler(Duration.ofMinutes(5));
    stop(empty);
    assertThat(SamplerJournal.orphans(dir, java.util.Set.of())).as("an empty journal leaves nothing").isEmpty();
    TailSampler holding = sampler(Duration.ofMinutes(5));
    holding.accept(TailSamplerTest.request(List.of(span(1, 0, true)))).await(5, TimeUnit.SECONDS);
    stop(holding);
    assertThat(SamplerJournal.orphans(dir, java.util.Set.of("ts"))).isEmpty();
    assertThat(SamplerJournal.orphans(dir, java.util.Set.of("another"))).containsExactly(dir.resolve("ts"));
  }
}
