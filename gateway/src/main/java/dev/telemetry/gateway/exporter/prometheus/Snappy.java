package dev.telemetry.gateway.exporter.prometheus;

import io.airlift.compress.snappy.SnappyCompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import java.util.Arrays;

/** Snappy block format (not the framed format), as remote-write requires. Pure Java; compressors are stateless. */
public final class Snappy {
  private static final SnappyCompressor COMPRESSOR = new SnappyCompressor();
  private static final SnappyDecompressor DECOMPRESSOR = new SnappyDecompressor();

  private Snappy() {
  }

  public static byte[] compress(byte[] raw) {
    byte[] out = new byte[COMPRESSOR.maxCompressedLength(raw.length)];
    int n = COMPRESSOR.compress(raw, 0, raw.length, out, 0, out.length);
    return Arrays.copyOf(out, n);
  }

  public static byte[] decompress(byte[] compressed) {
    byte[] out = new byte[SnappyDecompressor.getUncompressedLength(compressed, 0)];
    DECOMPRESSOR.decompress(compressed, 0, compressed.length, out, 0, out.length);
    return out;
  }
}
