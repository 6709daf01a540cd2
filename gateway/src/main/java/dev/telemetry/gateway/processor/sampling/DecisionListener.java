package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.List;
import java.util.function.Supplier;

/** Told of every trace a tail sampler decides, on the sampler's context (must not block). */
@FunctionalInterface
public interface DecisionListener {
  /**
   * A buffered span of a decided trace: its resource, kind and status code (read without parsing), its name (null
   * unless a policy reads names: the sampler does not keep them otherwise), and its encoded {@code Span}.
   */
  record DecidedSpan(Resource resource, String name, int kind, int statusCode, ByteString span) {
  }

  /**
   * {@code spans} lists the trace's buffered spans when asked (built on demand; valid during the call only).
   */
  void decided(ByteString traceId, boolean kept, Supplier<List<DecidedSpan>> spans);
}
