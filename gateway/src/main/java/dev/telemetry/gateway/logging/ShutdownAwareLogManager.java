package dev.telemetry.gateway.logging;

import java.util.logging.LogManager;

/**
 * A LogManager whose reset waits for the gateway: the JDK resets logging in its own shutdown hook, concurrently with
 * ours, which would swallow the log lines of a graceful drain. Installed by Main through
 * {@code java.util.logging.manager} before any logger exists.
 */
public final class ShutdownAwareLogManager extends LogManager {
  private volatile boolean gatewayDone;

  @Override
  public void reset() {
    if (gatewayDone) {
      super.reset();
    }
  }

  /** Called at the very end of the gateway's shutdown hook. */
  public static void gatewayStopped() {
    if (LogManager.getLogManager() instanceof ShutdownAwareLogManager m) {
      m.gatewayDone = true;
      for (var h : java.util.logging.Logger.getLogger("").getHandlers()) {
        h.flush();
      }
    }
  }
}
