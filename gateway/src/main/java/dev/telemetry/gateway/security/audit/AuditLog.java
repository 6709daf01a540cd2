package dev.telemetry.gateway.security.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The gateway's tamper-evident audit trail ({@link AuditChain}): every line of the audit loggers (routing table
 * versions, SLO files, remediations, cluster membership, auth failure summaries) and every admin API call, appended
 * by one writer thread and forced to disk entry by entry. Callers never block (an event loop must not wait for a
 * disk): entries wait in a bounded queue; when it is full they are counted as dropped — the chain stays intact and
 * the count says what is missing. At start the chain continues from the file's last line.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AuditLog.class.getName());
  /** The loggers whose lines are audit entries, and the kind each records. */
  static final List<String[]> SOURCES = List.of(new String[] {"dev.telemetry.gateway.routing.audit", "routing"},
      new String[] {"dev.telemetry.gateway.audit", null});

  private record Entry(String at, String kind, String actor, String action, String outcome, String detail) {
  }

  private final Path file;
  private final BlockingQueue<Entry> queue = new ArrayBlockingQueue<>(10_000);
  private final Counter dropped;
  private final Counter written;
  private final Thread writer;
  private final Handler handler;
  private volatile boolean closed;
  private long seq;
  private String prev;

  public AuditLog(Path file, MeterRegistry registry) throws IOException {
    this.file = file;
    this.dropped = Counter.builder("gateway.audit.dropped").description("Audit entries not written: the queue to "
        + "the audit file was full").register(registry);
    this.written = Counter.builder("gateway.audit.entries").description("Audit entries written").register(registry);
    resume();
    this.handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        String name = r.getLoggerName();
        String kind = name.startsWith("dev.telemetry.gateway.audit.") ? name.substring(
            "dev.telemetry.gateway.audit.".length()) : "routing";
        record(kind, "gateway", kind, r.getLevel().intValue() >= Level.WARNING.intValue() ? "rejected" : "ok",
            r.getMessage());
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    for (String[] s : SOURCES) {
      Logger.getLogger(s[0]).addHandler(handler);
    }
    this.writer = new Thread(this::drain, "audit-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /** Continues the chain after the file's last entry (a damaged last line is reported; the chain restarts). */
  private void resume() throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    prev = AuditChain.GENESIS;
    seq = 0;
    if (!Files.exists(file) || Files.size(file) == 0) {
      return;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    String last = lines.get(lines.size() - 1);
    int at = last.lastIndexOf(AuditChain.HASH_MEMBER);
    try {
      JsonObject e = new JsonObject(last.substring(0, at) + "}");
      seq = e.getLong("seq") + 1;
      prev = last.substring(at + AuditChain.HASH_MEMBER.length(), last.length() - 2);
    } catch (RuntimeException e) {
      LOG.warning("the last line of the audit log " + file + " is damaged; the chain continues from a new start "
          + "(audit-verify will report the break there)");
      seq = lines.size();
    }
  }

  /** Appends an entry (any thread; never blocks). */
  public void record(String kind, String actor, String action, String outcome, String detail) {
    if (closed || !queue.offer(new Entry(Instant.now().toString(), kind, actor, action, outcome, detail))) {
      dropped.increment();
    }
  }

  private void drain() {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
        StandardOpenOption.WRITE); OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
      while (!closed || !queue.isEmpty()) {
        Entry e = queue.poll(200, TimeUnit.MILLISECONDS);
        if (e == null) {
          continue;
        }
        String[] line = AuditChain.line(seq, e.at(), e.kind(), e.actor(), e.action(), e.outcome(), e.detail(), prev);
        out.write((line[0] + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        channel.force(false);
        seq++;
        prev = line[1];
        written.increment();
      }
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "cannot write the audit log " + file + "; audit entries are dropped from now on", e);
      closed = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Writes what waits, then stops. */
  @Override
  public void close() {
    for (String[] s : SOURCES) {
      Logger.getLogger(s[0]).removeHandler(handler);
    }
    closed = true;
    try {
      writer.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** For tests: waits until everything queued is written. */
  public void awaitWritten(long timeoutMillis) throws InterruptedException {
    long end = System.currentTimeMillis() + timeoutMillis;
    while (!queue.isEmpty() && System.currentTimeMillis() < end) {
      Thread.sleep(10);
    }
    Thread.sleep(50);
  }
}
