package dev.telemetry.gateway.cluster;

import dev.telemetry.proto.cluster.ForwardBatch;
import dev.telemetry.proto.cluster.ForwardPart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The event-bus wire format of a forwarded batch: a {@code gateway.cluster.ForwardBatch} (proto/), gzip-compressed
 * when configured. Gzip is recognised by its magic bytes, so members with different compression settings still
 * understand each other. Inflating stops at {@link #MAX_INFLATED} bytes: members are trusted, bugs are not.
 */
final class ForwardCodec {
  static final int MAX_INFLATED = 256 << 20;

  private ForwardCodec() {
  }

  record Batch(String origin, int hops, List<ForwardReceiver.Part> parts) {
  }

  static byte[] encode(String origin, int hops, List<ForwardReceiver.Part> parts, boolean gzip) {
    ForwardBatch.Builder b = ForwardBatch.newBuilder().setOrigin(origin).setHops(hops);
    for (ForwardReceiver.Part p : parts) {
      b.addParts(part(p));
    }
    byte[] raw = b.build().toByteArray();
    if (!gzip) {
      return raw;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 4 + 64);
    try (GZIPOutputStream z = new GZIPOutputStream(out, 8192) {
      {
        def.setLevel(java.util.zip.Deflater.BEST_SPEED); // spans compress ~5x even so, at a fraction of the CPU
      }
    }) {
      z.write(raw);
    } catch (IOException e) {
      throw new IllegalStateException(e); // in memory
    }
    return out.toByteArray();
  }

  static ForwardPart part(ForwardReceiver.Part p) {
    ForwardPart.Builder fp = ForwardPart.newBuilder().setSampler(p.sampler()).setRequest(p.request())
        .setHandoff(p.handoff()).setReplica(p.replica());
    if (p.exporters() == null) {
      fp.setDefaultExporters(true);
    } else {
      fp.addAllExporters(p.exporters());
    }
    return fp.build();
  }

  static ForwardReceiver.Part part(ForwardPart fp, int hops) {
    return new ForwardReceiver.Part(fp.getSampler(), fp.getDefaultExporters() ? null : List.copyOf(
        fp.getExportersList()), fp.getRequest(), fp.getReplica() ? ForwardReceiver.Kind.REPLICA
        : fp.getHandoff() ? ForwardReceiver.Kind.HANDOFF : ForwardReceiver.Kind.TRAFFIC, hops, 0);
  }

  static Batch decode(byte[] bytes) throws IOException {
    byte[] raw = bytes.length >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b ? inflate(bytes) : bytes;
    ForwardBatch batch = ForwardBatch.parseFrom(raw);
    List<ForwardReceiver.Part> parts = new ArrayList<>(batch.getPartsCount());
    for (ForwardPart fp : batch.getPartsList()) {
      parts.add(part(fp, batch.getHops()));
    }
    return new Batch(batch.getOrigin(), batch.getHops(), parts);
  }

  private static byte[] inflate(byte[] gz) throws IOException {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz), 8192)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(gz.length * 4);
      byte[] buf = new byte[16384];
      int n;
      while ((n = in.read(buf)) > 0) {
        if (out.size() + n > MAX_INFLATED) {
          throw new IOException("forwarded batch inflates beyond " + MAX_INFLATED + " bytes");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }
}
