package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.config.ClusterConfig.Compression;
import dev.telemetry.gateway.loadtest.OtlpPayloads;
import dev.telemetry.gateway.otlp.Signal;
import io.airlift.compress.lz4.Lz4Compressor;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.zstd.ZstdCompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.processor.sampling.SamplingPolicy;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU a forwarded span costs in a cluster, stage by stage, on one thread: a 100-span request of the load tests'
 * traces arrives at member m0 of three; the spans m1 and m2 own are split off, encoded, framed for the event bus
 * (as they are, gzip or snappy; zstd and lz4 for comparison, as aircompressor implements them), then unframed and
 * read at the owner — as the sampler reads them now, and decoded and encoded again as it did before. One op = one
 * request; divide by the forwarded span count the setup prints to get µs per forwarded span.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ForwardPathBenchmark {
  private HashRing ring;
  private TailSampler sampler;
  private ExportTraceServiceRequest request;
  private List<ForwardReceiver.Part> parts;
  private byte[] raw;
  private byte[] gzipped;
  private byte[] zstd;
  private byte[] snappy;
  private byte[] lz4;

  @Setup
  public void setup() throws Exception {
    // Policies like the side-by-side pipeline's: status only, so no attribute or name is kept.
    sampler = new TailSampler(new TailSamplingProcessorConfig("bench", Duration.ofSeconds(2), 1L << 30, 0, 0,
        List.of(new SamplingPolicy.StatusCode("errors", List.of("ERROR")))), new SimpleMeterRegistry());
    ring = new HashRing(List.of("m0", "m1", "m2"), 64);
    request = ExportTraceServiceRequest.parseFrom(OtlpPayloads.encoded(Signal.TRACES, false, 1, 100, 11)[0]);
    parts = encodeParts();
    raw = ForwardCodec.encode("m0", 0, parts, Compression.NONE);
    gzipped = ForwardCodec.encode("m0", 0, parts, Compression.GZIP);
    snappy = ForwardCodec.encode("m0", 0, parts, Compression.SNAPPY);
    zstd = compress(new ZstdCompressor(), raw);
    lz4 = compress(new Lz4Compressor(), raw);
    int forwarded = parts.stream().mapToInt(ForwardReceiver.Part::spans).sum();
    System.out.printf("%nforwarded spans per request: %d; frame bytes: raw %d, gzip %d, zstd %d, snappy %d, lz4 %d%n",
        forwarded, raw.length, gzipped.length, zstd.length, snappy.length, lz4.length);
  }

  private static byte[] compress(io.airlift.compress.Compressor c, byte[] in) {
    byte[] out = new byte[c.maxCompressedLength(in.length)];
    int n = c.compress(in, 0, in.length, out, 0, out.length);
    return java.util.Arrays.copyOf(out, n);
  }

  private List<ForwardReceiver.Part> encodeParts() {
    Map<String, ExportTraceServiceRequest> byOwner = TraceSplitter.split(request, ring);
    List<ForwardReceiver.Part> out = new ArrayList<>(2);
    for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
      if (!e.getKey().equals("m0")) {
        out.add(new ForwardReceiver.Part("tail", null, e.getValue().toByteString(), ForwardReceiver.Kind.TRAFFIC, 0,
            TraceSplitter.spanCount(e.getValue())));
      }
    }
    return out;
  }

  @Benchmark
  public Map<String, ExportTraceServiceRequest> split() {
    return TraceSplitter.split(request, ring);
  }

  @Benchmark
  public List<ForwardReceiver.Part> splitAndEncode() {
    return encodeParts();
  }

  @Benchmark
  public byte[] frameNone() {
    return ForwardCodec.encode("m0", 0, parts, Compression.NONE);
  }

  @Benchmark
  public byte[] frameGzip() {
    return ForwardCodec.encode("m0", 0, parts, Compression.GZIP);
  }

  @Benchmark
  public byte[] frameSnappy() {
    return ForwardCodec.encode("m0", 0, parts, Compression.SNAPPY);
  }

  @Benchmark
  public byte[] compressZstd() {
    return compress(new ZstdCompressor(), raw);
  }

  @Benchmark
  public byte[] compressLz4() {
    return compress(new Lz4Compressor(), raw);
  }

  @Benchmark
  public ForwardCodec.Batch unframeNone() throws Exception {
    return ForwardCodec.decode(raw);
  }

  @Benchmark
  public ForwardCodec.Batch unframeGzip() throws Exception {
    return ForwardCodec.decode(gzipped);
  }

  @Benchmark
  public ForwardCodec.Batch unframeSnappy() throws Exception {
    return ForwardCodec.decode(snappy);
  }

  @Benchmark
  public byte[] decompressZstd() {
    byte[] out = new byte[raw.length];
    new ZstdDecompressor().decompress(zstd, 0, zstd.length, out, 0, out.length);
    return out;
  }

  @Benchmark
  public byte[] decompressLz4() {
    byte[] out = new byte[raw.length];
    new Lz4Decompressor().decompress(lz4, 0, lz4.length, out, 0, out.length);
    return out;
  }

  @Benchmark
  public int parseAtOwner() throws Exception {
    int n = 0;
    for (ForwardReceiver.Part p : parts) {
      n += ExportTraceServiceRequest.parseFrom(p.request()).getResourceSpansCount();
    }
    return n;
  }

  /** The owner before: each part decoded, then each span encoded again for the sampler's buffer. */
  @Benchmark
  public int ownerDecodeAndEncode() throws Exception {
    int n = 0;
    for (ForwardReceiver.Part p : parts) {
      for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(p.request()).getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span s : ss.getSpansList()) {
            n += s.toByteString().size();
          }
        }
      }
    }
    return n;
  }

  /** The owner now: the sampler reads each part's spans from their encoding. */
  @Benchmark
  public int ownerRead() throws Exception {
    int n = 0;
    for (ForwardReceiver.Part p : parts) {
      n += sampler.read(p.request(), Destination.DEFAULT).spanCount();
    }
    return n;
  }
}
