package dev.telemetry.gateway.launcher;

import dev.telemetry.gateway.config.MemoryLimitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM options the launcher starts the gateway with, so that the process's resident memory stays under one limit
 * by default. The limit comes from, in this order: {@code GATEWAY_MEMORY_LIMIT}, the config's
 * {@code memory_limit.process}, the container's cgroup limit, else {@link #DEFAULT_LIMIT}.
 *
 * <p>The heap gets {@link #HEAP_SHARE} of what is left after {@link #NON_HEAP} (measured, docs/benchmarks.md: at
 * -Xmx1g under the side-by-side load the process peaks at 1.2 GB, so metaspace, JIT code, thread stacks, G1's own
 * structures, Netty's buffers and malloc take about 200 MB); the share keeps room for G1's remembered sets, which grow
 * with the heap. Direct memory (Netty's socket buffers) is bounded to an eighth of the limit.
 */
public final class JvmOptions {
  static final long MIB = 1024L * 1024;
  public static final long DEFAULT_LIMIT = 1536 * MIB;
  static final long NON_HEAP = 192 * MIB;
  static final double HEAP_SHARE = 0.75;
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?",
      Pattern.CASE_INSENSITIVE);

  private JvmOptions() {
  }

  /** Where the limit came from, for the launcher's one log line. */
  public record Limit(long bytes, String source) {
  }

  /**
   * The limit: {@code env} (GATEWAY_MEMORY_LIMIT, may be null), then the config's process limit (0: none), then the
   * cgroup's (null: none or unlimited), then the default.
   */
  public static Limit limit(String env, long configBytes, Long cgroupBytes) {
    if (env != null && !env.isBlank()) {
      long b = parseSize(env.trim());
      if (b < MemoryLimitConfig.MIN_PROCESS_BYTES) {
        throw new IllegalArgumentException("GATEWAY_MEMORY_LIMIT=" + env + ": at least 384MiB");
      }
      return new Limit(b, "GATEWAY_MEMORY_LIMIT");
    }
    if (configBytes > 0) {
      return new Limit(configBytes, "memory_limit.process");
    }
    if (cgroupBytes != null) {
      return new Limit(cgroupBytes, "cgroup");
    }
    return new Limit(DEFAULT_LIMIT, "default");
  }

  /** The options for a process limit of {@code limitBytes}. */
  public static List<String> options(long limitBytes) {
    long heap = (long) ((limitBytes - NON_HEAP) * HEAP_SHARE) / MIB;
    long direct = Math.max(64, limitBytes / 8 / MIB);
    List<String> out = new ArrayList<>();
    out.add("-Xmx" + heap + "m");
    out.add("-XX:MaxDirectMemorySize=" + direct + "m");
    // G1 explicitly: with fewer than 2 CPUs or 1792 MB the JVM would pick the serial collector, whose pauses stop
    // every event loop for the whole collection.
    out.add("-XX:+UseG1GC");
    // An OutOfMemoryError leaves Vert.x and Netty in an unknown state: exit, let the supervisor restart, and the
    // persistent queues replay.
    out.add("-XX:+ExitOnOutOfMemoryError");
    return out;
  }

  /**
   * The cgroup memory limit of this process, or null when there is none: cgroup v2 at the process's own group (a
   * systemd unit's MemoryMax=, named in {@code selfCgroup}, the content of /proc/self/cgroup) or at the root of the
   * mount (a container's namespace), else cgroup v1.
   */
  public static Long cgroupLimit(Path root, String selfCgroup) {
    List<Path> candidates = new ArrayList<>();
    for (String line : selfCgroup == null ? new String[0] : selfCgroup.split("\n")) {
      if (line.startsWith("0::/") && line.length() > 4) {
        candidates.add(root.resolve(line.substring(4).trim()).resolve("memory.max"));
      }
    }
    candidates.add(root.resolve("memory.max"));
    candidates.add(root.resolve("memory/memory.limit_in_bytes"));
    for (Path p : candidates) {
      try {
        String v = Files.readString(p).trim();
        if (v.equals("max")) {
          return null;
        }
        long b = Long.parseLong(v);
        return b >= (1L << 60) ? null : b; // v1 writes a huge number for "unlimited"
      } catch (IOException | NumberFormatException e) {
        // not this cgroup version
      }
    }
    return null;
  }

  /** {@link #cgroupLimit(Path, String)} for this process. */
  public static Long cgroupLimit() {
    String self;
    try {
      self = Files.readString(Path.of("/proc/self/cgroup"));
    } catch (IOException e) {
      self = null;
    }
    return cgroupLimit(Path.of("/sys/fs/cgroup"), self);
  }

  static long parseSize(String s) {
    Matcher m = SIZE.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a size: \"" + s + "\" (e.g. 1GiB, 1536MiB or a byte count)");
    }
    long unit = switch (m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT)) {
      case "k", "kib" -> 1024L;
      case "kb" -> 1000L;
      case "m", "mib" -> MIB;
      case "mb" -> 1000L * 1000;
      case "g", "gib" -> 1024 * MIB;
      case "gb" -> 1000L * 1000 * 1000;
      default -> 1L;
    };
    return Long.parseLong(m.group(1)) * unit;
  }
}
