package dev.telemetry.gateway.cluster;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The trace IDs of an encoded ExportTraceServiceRequest and how many spans each has, read straight from the wire
 * (resource_spans → scope_spans → spans → trace_id) without building the messages: a replica holder only indexes
 * its copies by trace, and parses one only in the rare case it takes it over.
 */
final class TraceIdScan {
  /** Field 1 and field 2, length-delimited (a tag is the field number shifted by three, then the wire type). */
  private static final int LEN_1 = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int LEN_2 = 2 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private TraceIdScan() {
  }

  /** Trace ID → span count, in order of first appearance. */
  static Map<ByteString, Integer> spansPerTrace(ByteString request) throws InvalidProtocolBufferException {
    Map<ByteString, Integer> out = new LinkedHashMap<>(8);
    try {
      CodedInputStream in = request.newCodedInput();
      each(in, LEN_1, () -> each(in, LEN_2, () -> each(in, LEN_2, () -> span(in, out))));
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return out;
  }

  private interface Body {
    void read() throws IOException;
  }

  /** For each embedded message with {@code tag} in the current message: reads it with {@code body}. */
  private static void each(CodedInputStream in, int tag, Body body) throws IOException {
    int t;
    while ((t = in.readTag()) != 0) {
      if (t != tag) {
        in.skipField(t);
        continue;
      }
      int limit = in.pushLimit(in.readRawVarint32());
      body.read();
      in.popLimit(limit);
    }
  }

  private static void span(CodedInputStream in, Map<ByteString, Integer> out) throws IOException {
    ByteString id = ByteString.EMPTY;
    int t;
    while ((t = in.readTag()) != 0) {
      if (t == LEN_1) {
        id = in.readBytes();
        in.skipRawBytes(in.getBytesUntilLimit()); // nothing else of the span is needed
        break;
      }
      in.skipField(t);
    }
    out.merge(id, 1, Integer::sum);
  }
}
