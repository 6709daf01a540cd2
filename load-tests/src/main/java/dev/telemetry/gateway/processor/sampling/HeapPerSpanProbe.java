package dev.telemetry.gateway.processor.sampling;

import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import dev.telemetry.gateway.loadtest.SaturationBenchmark;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * Measures the heap a buffered span really costs in the tail sampler: requests are decoded exactly as the receiver
 * does (protobuf parse), handed to the sampler, and dropped; after a full GC the retained heap divided by the
 * buffered span count is the cost per span (span, its attributes, the trace's entry and map slot). Compare with the
 * sampler's own estimate ({@link TailSampler#charge}) that the memory budget uses.
 *
 * <pre>java -cp load-tests/target/benchmarks.jar dev.telemetry.gateway.processor.sampling.HeapPerSpanProbe [spans]</pre>
 */
public final class HeapPerSpanProbe {
  private HeapPerSpanProbe() {
  }

  public static void main(String[] args) throws Exception {
    int spans = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
    byte[][] payloads = SaturationBenchmark.payloads(spans / 100, 100, new Random(5));
    TailSampler sampler = new TailSampler(new TailSamplingProcessorConfig("probe", Duration.ofHours(1), 1L << 40,
        0, 0, List.of(new SamplingPolicy.AlwaysSample("all"))), new SimpleMeterRegistry());
    long before = usedAfterGc();
    long estimate = 0;
    for (byte[] p : payloads) {
      ExportTraceServiceRequest r = ExportTraceServiceRequest.parseFrom(p);
      for (var rs : r.getResourceSpansList()) {
        for (var ss : rs.getScopeSpansList()) {
          for (var span : ss.getSpansList()) {
            estimate += TailSampler.charge(span);
          }
        }
      }
      sampler.insert(r); // the parsed request is garbage after this, except the spans the sampler keeps
    }
    long after = usedAfterGc();
    long perSpan = (after - before) / spans;
    System.out.println(new JsonObject().put("buffered_spans", spans).put("retained_heap_mib", (after - before) >> 20)
        .put("heap_bytes_per_buffered_span", perSpan)
        .put("budget_charge_per_span", estimate / spans)
        .put("encoded_bytes_per_span", payloads[0].length / 100).encode());
    if (gaugeTraces(sampler) == 0) {
      throw new IllegalStateException("nothing buffered");
    }
  }

  static int gaugeTraces(TailSampler s) {
    return s.bufferedTraceCount();
  }

  static long usedAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    var mem = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return mem.getUsed();
  }
}
