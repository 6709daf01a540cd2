package dev.telemetry.gateway.testing;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;

/** Hand-built OTLP payloads for receiver tests. */
public final class Payloads {
  private static final AtomicLong IDS = new AtomicLong(1);

  private Payloads() {
  }

  /** A request with {@code spans} spans of one new trace, for service {@code service}. */
  public static ExportTraceServiceRequest traces(String service, int spans) {
    long trace = IDS.getAndIncrement();
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      ss.addSpans(Span.newBuilder()
          .setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(0x1234L).putLong(trace).array()))
          .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(IDS.getAndIncrement()).array()))
          .setName("span-" + i).setKind(Span.SpanKind.SPAN_KIND_INTERNAL)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L).setEndTimeUnixNano(1_700_000_000_100_000_000L));
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue(service))))
        .addScopeSpans(ss)).build();
  }

  public static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }

  /** A gzip stream of {@code size} zero bytes: tiny on the wire, huge when inflated. */
  public static byte[] gzipBomb(int size) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      byte[] zeros = new byte[1 << 20];
      for (int written = 0; written < size; written += zeros.length) {
        gz.write(zeros, 0, Math.min(zeros.length, size - written));
      }
    }
    return out.toByteArray();
  }
}
