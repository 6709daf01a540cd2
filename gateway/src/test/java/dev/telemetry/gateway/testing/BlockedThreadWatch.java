package dev.telemetry.gateway.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects warnings of Vert.x's blocked-thread checker, so a test can assert that nothing blocked an event loop.
 * Tests run Vert.x with a tight max execute time (see {@link GatewayHarness}).
 */
public final class BlockedThreadWatch extends Handler {
  private static final Logger CHECKER = Logger.getLogger("io.vertx.core.internal.threadchecker");
  private final List<String> warnings = new CopyOnWriteArrayList<>();

  public static BlockedThreadWatch install() {
    BlockedThreadWatch w = new BlockedThreadWatch();
    CHECKER.addHandler(w);
    return w;
  }

  public List<String> warnings() {
    return warnings;
  }

  @Override
  public void publish(LogRecord record) {
    warnings.add(record.getMessage());
  }

  @Override
  public void flush() {
  }

  @Override
  public void close() {
    CHECKER.removeHandler(this);
  }
}
