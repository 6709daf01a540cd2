package dev.telemetry.gateway.exporter.prometheus;

/**
 * One side (positive or negative) of an exponential histogram: bucket {@code offset + i} holds {@code counts[i]}.
 * Supports the two operations conversion needs: lowering the scale (merging pairs of buckets) and adding.
 */
record ExponentialBuckets(int offset, long[] counts) {
  static final ExponentialBuckets EMPTY = new ExponentialBuckets(0, new long[0]);

  static ExponentialBuckets of(int offset, java.util.List<Long> counts) {
    long[] c = new long[counts.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = counts.get(i);
    }
    return new ExponentialBuckets(offset, c);
  }

  /** The same observations at a scale lower by {@code by}: bucket i maps to bucket i >> by. */
  ExponentialBuckets downscale(int by) {
    if (by == 0 || counts.length == 0) {
      return this;
    }
    int first = offset >> by;
    int last = (offset + counts.length - 1) >> by;
    long[] out = new long[last - first + 1];
    for (int i = 0; i < counts.length; i++) {
      out[((offset + i) >> by) - first] += counts[i];
    }
    return new ExponentialBuckets(first, out);
  }

  /** Bucket-wise sum; both must be at the same scale. */
  ExponentialBuckets plus(ExponentialBuckets o) {
    if (o.counts.length == 0) {
      return this;
    }
    if (counts.length == 0) {
      return o;
    }
    int first = Math.min(offset, o.offset);
    int last = Math.max(offset + counts.length, o.offset + o.counts.length);
    long[] out = new long[last - first];
    for (int i = 0; i < counts.length; i++) {
      out[offset - first + i] += counts[i];
    }
    for (int i = 0; i < o.counts.length; i++) {
      out[o.offset - first + i] += o.counts[i];
    }
    return new ExponentialBuckets(first, out);
  }

  long total() {
    long t = 0;
    for (long c : counts) {
      t += c;
    }
    return t;
  }
}
