package dev.telemetry.gateway.processor;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.resource.v1.Resource;
import java.io.IOException;

/**
 * A processor that can also do its work on a traces request still encoded, one span at a time: the receivers hand a
 * pipeline that needs nothing else decoded the request's bytes (see {@code Pipeline#takesEncoded}), and most spans
 * then go into the tail sampler's buffer without ever being decoded. What it returns must decode to what
 * {@link Processor#process} gives for the decoded request.
 */
public interface EncodedSpanProcessor {

  /** False when this instance's configuration needs the decoded request (then the pipeline decodes it). */
  boolean takesEncodedSpans();

  /**
   * An encoded Span as it leaves the processor: the same instance when unchanged, else bytes of its own (not a view
   * of {@code span}'s). Malformed bytes: IOException.
   */
  ByteString span(ByteString span) throws IOException;

  /** A span's resource as it leaves the processor: the same instance when unchanged. */
  Resource resource(Resource resource);

  /**
   * A throwaway instance of the same kind, with meters of its own and a configuration that makes it change the
   * warm-up's synthetic spans, for running this code before the gateway is ready; null to skip it.
   */
  default EncodedSpanProcessor warmUpStandIn() {
    return null;
  }
}
