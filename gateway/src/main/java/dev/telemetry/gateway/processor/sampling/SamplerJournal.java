package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.queue.DurableQueue;
import dev.telemetry.gateway.queue.WriteAheadLog;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The write-ahead log of a tail sampler. Every request the sampler takes is written — and forced, per the fsync policy
 * — before the client is told success. A record is done once every trace it carries has left the sampler: dropped by
 * its decision, or taken by the exporter queues (a persistent queue has it in its own log by then), or handed to
 * another member. A restart replays what was not done, and those traces wait again for what was left of their
 * decision_wait.
 *
 * <p>A record carries one trace's spans of one request ({@link Incoming#byTrace}) and the exporters its kept spans go to (a
 * route's list, or none for the pipeline's own). Holds are counted per record, released when the trace leaves. Only
 * the sampler's context touches the holds.
 */
public final class SamplerJournal {
  /** Request bytes a replay keeps in memory from the log's first read; the rest is read back a chunk at a time. */
  private static final long KEEP_IN_MEMORY = 8L << 20;
  private static final int CHUNK = 512;

  /** Where and how: the directory is the sampler's own; fsync and segment size follow its persistent queues. */
  public record Settings(Path directory, QueueConfig.Fsync fsync, Duration fsyncInterval, long segmentBytes) {
  }

  /**
   * A record replayed at start; {@code kept}: its trace had been decided and kept before the stop or crash (a kept
   * marker names it), so it is emitted again without a second decision.
   */
  record Restored(long seq, long receivedMillis, List<String> exporters, ExportTraceServiceRequest request,
                  boolean kept) {
  }

  private final DurableQueue log;
  private final long segmentBytes;
  private final Map<Long, Integer> holds = new HashMap<>();
  /** Kept markers: the marker holding each record, and how many of its records are not done yet. */
  private final Map<Long, Long> markerOf = new HashMap<>();
  private final Map<Long, Integer> markerLeft = new HashMap<>();
  /** Records of traces kept in this turn of the sampler's event loop: one marker names them all. */
  private final java.util.LinkedHashSet<Long> keptPending = new java.util.LinkedHashSet<>();
  private boolean keptScheduled;

  public SamplerJournal(Settings settings, String samplerName) {
    this.log = new DurableQueue(settings.directory(), settings.segmentBytes(), settings.fsync(),
        settings.fsyncInterval(), "tail_sampling-" + samplerName);
    this.segmentBytes = settings.segmentBytes();
  }

  /**
   * Journal directories under {@code root} with log files that belong to none of the {@code running} samplers: left
   * by a tail_sampling processor since removed or renamed (a journal that held nothing at its last stop removed its
   * files), so they may hold acknowledged spans nobody will replay.
   */
  public static List<Path> orphans(Path root, java.util.Set<String> running) {
    if (!java.nio.file.Files.isDirectory(root)) {
      return List.of();
    }
    try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.list(root)) {
      return dirs.filter(java.nio.file.Files::isDirectory).filter(d -> !running.contains(d.getFileName().toString()))
          .filter(SamplerJournal::holdsSegments).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static boolean holdsSegments(Path dir) {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
      return files.anyMatch(f -> f.getFileName().toString().endsWith(".wal"));
    } catch (IOException e) {
      return false;
    }
  }

  Path directory() {
    return log.directory();
  }

  long diskBytes() {
    return log.diskBytes();
  }

  /**
   * Whether {@code bytes} more would take the log past {@code budget} (the sampler's memory budget): records stay
   * until all their traces are gone, so the log may run up to two segments past it, and no further.
   */
  boolean wouldExceed(long bytes, long budget) {
    return log.diskBytes() + bytes > budget + 2 * segmentBytes;
  }

  /**
   * Opens the log and hands each record to replay to {@code each}, in order, on the calling context; records that do
   * not parse are skipped and counted. Records are read and parsed a chunk at a time: a restart replays up to the
   * sampler's whole budget, and must not need it twice on the heap.
   */
  Future<Recovered> replay(java.util.function.Consumer<Restored> each) {
    return log.open(KEEP_IN_MEMORY).compose(recovery -> {
      // Kept markers first (few and small; a marker comes after the records it names): which traces were decided.
      List<WriteAheadLog.Entry> markers = recovery.entries().stream().filter(e -> e.items() == 0).toList();
      List<WriteAheadLog.Entry> records = recovery.entries().stream().filter(e -> e.items() > 0).toList();
      int[] unreadable = new int[1];
      Map<Long, long[]> marked = new HashMap<>();
      return readAll(markers).compose(bytes -> {
        java.util.Set<Long> kept = new java.util.HashSet<>();
        for (int i = 0; i < markers.size(); i++) {
          try {
            long[] named = decodeMarker(bytes.get(i));
            marked.put(markers.get(i).seq(), named);
            for (long r : named) {
              kept.add(r);
            }
          } catch (IOException | RuntimeException ex) {
            unreadable[0]++;
            log.done(markers.get(i).seq());
          }
        }
        return replayFrom(records, 0, kept, each, unreadable);
      }).map(v -> {
        marked.forEach(this::link); // each marker is done once the records it names are
        return new Recovered(records.size() - unreadable[0], recovery.tornRecords(), unreadable[0]);
      });
    });
  }

  private Future<List<byte[]>> readAll(List<WriteAheadLog.Entry> entries) {
    List<WriteAheadLog.Location> spilled = entries.stream().filter(e -> e.request() == null)
        .map(WriteAheadLog.Entry::location).toList();
    Future<List<byte[]>> read = spilled.isEmpty() ? Future.succeededFuture(List.of()) : log.read(spilled);
    return read.map(bytes -> {
      List<byte[]> out = new ArrayList<>(entries.size());
      int next = 0;
      for (WriteAheadLog.Entry e : entries) {
        out.add(e.request() != null ? e.request() : bytes.get(next++));
      }
      return out;
    });
  }

  private Future<Void> replayFrom(List<WriteAheadLog.Entry> entries, int from, java.util.Set<Long> kept,
                                  java.util.function.Consumer<Restored> each, int[] unreadable) {
    if (from >= entries.size()) {
      return Future.succeededFuture();
    }
    List<WriteAheadLog.Entry> chunk = entries.subList(from, Math.min(entries.size(), from + CHUNK));
    return readAll(chunk).compose(bytes -> {
      for (int i = 0; i < chunk.size(); i++) {
        WriteAheadLog.Entry e = chunk.get(i);
        try {
          each.accept(decode(e.seq(), e.receivedMillis(), bytes.get(i), kept.contains(e.seq())));
        } catch (IOException | RuntimeException ex) {
          unreadable[0]++;
          log.done(e.seq()); // passed its CRC but is not ours to read: skipped, never a crash loop
        }
      }
      return replayFrom(entries, from + CHUNK, kept, each, unreadable);
    });
  }

  /** What a replay found: records replayed, torn tails repaired, records that did not parse. */
  record Recovered(int records, int tornRecords, int unreadable) {
  }

  /**
   * Writes one record per trace (spans grouped {@link Incoming#byTrace}); completes with their sequence numbers, in
   * order, once all are on disk as the fsync policy requires.
   */
  Future<long[]> append(List<String> exporters, long receivedMillis, List<List<Incoming>> traces) {
    int[] spans = new int[traces.size()];
    byte[][] records = new byte[traces.size()][];
    for (int i = 0; i < records.length; i++) {
      spans[i] = traces.get(i).size();
      records[i] = encode(exporters, traces.get(i));
    }
    return log.appendAll(receivedMillis, spans, records).map(list -> {
      long[] seqs = new long[list.size()];
      for (int i = 0; i < seqs.length; i++) {
        seqs[i] = list.get(i).seq();
      }
      return seqs;
    });
  }

  /** {@code units} more traces of record {@code seq} are in the sampler (sampler context). */
  void hold(long seq, int units) {
    holds.merge(seq, units, Integer::sum);
  }

  /** One trace of record {@code seq} has left the sampler; the record is done when none is left (sampler context). */
  void release(long seq) {
    Integer left = holds.get(seq);
    if (left == null) {
      return;
    }
    if (left <= 1) {
      holds.remove(seq);
      log.done(seq);
      Long marker = markerOf.remove(seq);
      if (marker != null && markerLeft.merge(marker, -1, Integer::sum) == 0) {
        markerLeft.remove(marker);
        log.done(marker);
      }
    } else {
      holds.put(seq, left - 1);
    }
  }

  /**
   * The trace in {@code records} was decided and kept: a marker naming them is written, so that a restart before
   * the queues have taken it emits it again instead of deciding a second time (sampler context; not waited for — a
   * crash before it is on disk only means the trace is decided again). Done when all the records are.
   */
  void kept(long[] records) {
    for (long r : records) {
      keptPending.add(r);
    }
    if (!keptScheduled) {
      // One marker for every trace kept in this turn of the sampler's event loop (a tick decides many at once).
      keptScheduled = true;
      io.vertx.core.Vertx.currentContext().runOnContext(v -> writeKept());
    }
  }

  private void writeKept() {
    keptScheduled = false;
    long[] named = keptPending.stream().mapToLong(Long::longValue).toArray();
    keptPending.clear();
    log.appendAll(System.currentTimeMillis(), new int[] {0}, new byte[][] {encodeMarker(named)})
        .onSuccess(written -> link(written.get(0).seq(), named));
  }

  /** Makes {@code marker} done when the records it names that are still held are (at once if none is). */
  private void link(long marker, long[] records) {
    int left = 0;
    for (long r : records) {
      if (holds.containsKey(r) && !markerOf.containsKey(r)) {
        markerOf.put(r, marker);
        left++;
      }
    }
    if (left == 0) {
      log.done(marker);
    } else {
      markerLeft.put(marker, left);
    }
  }

  /** {@code [int -2] [int n] [n × long record]}: a kept marker. */
  static byte[] encodeMarker(long[] records) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 8 * records.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(-2).putInt(records.length);
    for (long r : records) {
      b.putLong(r);
    }
    return b.array();
  }

  static long[] decodeMarker(byte[] marker) throws IOException {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(marker).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (marker.length < 8 || b.getInt() != -2) {
      throw new IOException("not a kept marker");
    }
    int n = b.getInt();
    if (n < 0 || marker.length != 8 + 8L * n) {
      throw new IOException("kept marker of " + marker.length + " bytes names " + n + " records");
    }
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = b.getLong();
    }
    return out;
  }

  /** Records with traces still in the sampler. */
  int heldRecords() {
    return holds.size();
  }

  /**
   * Forces what is written and the checkpoint to disk and closes the log; held records are replayed next start. A
   * journal that holds nothing is removed, so that files left in a journal directory always mean data (or a crash).
   */
  Future<Void> close() {
    boolean empty = holds.isEmpty();
    return log.close().map(v -> {
      if (empty) {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(log.directory())) {
          for (Path f : files.toList()) {
            java.nio.file.Files.deleteIfExists(f);
          }
        } catch (IOException e) {
          // left in place: replaying an empty journal is harmless
        }
      }
      return null;
    });
  }

  /**
   * {@code [int count (-1: the pipeline's exporters)] [count × (int length, UTF-8 name)] [request]}, the request being
   * an ExportTraceServiceRequest written from the spans' buffer encodings (they are not serialized a second time):
   * one ResourceSpans per run of spans from the same resource, one ScopeSpans per run from the same scope.
   */
  static byte[] encode(List<String> exporters, List<Incoming> spans) {
    List<byte[]> names = new ArrayList<>(exporters == null ? 0 : exporters.size());
    int size = 4;
    if (exporters != null) {
      for (String n : exporters) {
        byte[] b = n.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        names.add(b);
        size += 4 + b.length;
      }
    }
    List<Run> resources = runs(spans);
    int requestSize = 0;
    for (Run r : resources) {
      requestSize += CodedOutputStream.computeTagSize(1) + CodedOutputStream.computeUInt32SizeNoTag(r.size) + r.size;
    }
    byte[] out = new byte[size + requestSize];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeFixed32NoTag(exporters == null ? -1 : names.size());
      for (byte[] b : names) {
        o.writeFixed32NoTag(b.length);
        o.writeRawBytes(b);
      }
      for (Run r : resources) {
        o.writeTag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED); // ExportTraceServiceRequest.resource_spans
        o.writeUInt32NoTag(r.size);
        Trace.Entry head = r.spans.get(0).entry();
        o.writeMessage(1, head.resource());
        for (Run scope : r.scopes) {
          o.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED); // ResourceSpans.scope_spans
          o.writeUInt32NoTag(scope.size);
          Trace.Entry first = scope.spans.get(0).entry();
          o.writeMessage(1, first.scope());
          for (Incoming in : scope.spans) {
            o.writeBytes(2, in.entry().encoded()); // ScopeSpans.spans: the span's own encoding
          }
          if (!first.scopeSchemaUrl().isEmpty()) {
            o.writeString(3, first.scopeSchemaUrl());
          }
        }
        if (!head.resourceSchemaUrl().isEmpty()) {
          o.writeString(3, head.resourceSchemaUrl());
        }
      }
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("encoding into an array of its exact size cannot fail", e);
    }
    return out;
  }

  /** Spans from one resource (with its scope runs), or from one scope; {@code size}: its encoded message size. */
  private static final class Run {
    final List<Incoming> spans = new ArrayList<>();
    final List<Run> scopes = new ArrayList<>();
    int size;
  }

  /** Runs of spans that share a resource (and within them a scope), by identity as they came in one request. */
  private static List<Run> runs(List<Incoming> spans) {
    List<Run> resources = new ArrayList<>();
    Run resource = null;
    Run scope = null;
    for (Incoming in : spans) {
      Trace.Entry e = in.entry();
      Trace.Entry head = resource == null ? null : resource.spans.get(0).entry();
      if (head == null || head.resource() != e.resource() || !head.resourceSchemaUrl().equals(e.resourceSchemaUrl())) {
        resource = new Run();
        resources.add(resource);
        scope = null;
      }
      Trace.Entry first = scope == null ? null : scope.spans.get(0).entry();
      if (first == null || first.scope() != e.scope() || !first.scopeSchemaUrl().equals(e.scopeSchemaUrl())) {
        scope = new Run();
        resource.scopes.add(scope);
      }
      resource.spans.add(in);
      scope.spans.add(in);
    }
    for (Run r : resources) {
      Trace.Entry head = r.spans.get(0).entry();
      int size = CodedOutputStream.computeMessageSize(1, head.resource());
      for (Run sc : r.scopes) {
        Trace.Entry first = sc.spans.get(0).entry();
        int scopeSize = CodedOutputStream.computeMessageSize(1, first.scope());
        for (Incoming in : sc.spans) {
          scopeSize += CodedOutputStream.computeBytesSize(2, in.entry().encoded());
        }
        if (!first.scopeSchemaUrl().isEmpty()) {
          scopeSize += CodedOutputStream.computeStringSize(3, first.scopeSchemaUrl());
        }
        sc.size = scopeSize;
        size += CodedOutputStream.computeTagSize(2) + CodedOutputStream.computeUInt32SizeNoTag(scopeSize) + scopeSize;
      }
      if (!head.resourceSchemaUrl().isEmpty()) {
        size += CodedOutputStream.computeStringSize(3, head.resourceSchemaUrl());
      }
      r.size = size;
    }
    return resources;
  }

  static Restored decode(long seq, long receivedMillis, byte[] record, boolean kept) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(record);
    int count = in.readFixed32();
    if (count < -1 || count > 1024) {
      throw new IOException("record " + seq + ": " + count + " exporter names");
    }
    List<String> exporters = null;
    if (count >= 0) {
      exporters = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int len = in.readFixed32();
        if (len < 0 || len > 4096) {
          throw new IOException("record " + seq + ": exporter name of " + len + " bytes");
        }
        exporters.add(new String(in.readRawBytes(len), java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(in);
    return new Restored(seq, receivedMillis, exporters, request, kept);
  }
}
