package dev.telemetry.gateway.admin;

/**
 * Liveness and readiness as the admin API reports them. Ready means every receiver is bound and every exporter has
 * started; it turns false again as soon as shutdown begins, so load balancers stop sending before listeners close.
 */
public final class Health {
  private volatile boolean ready;
  private volatile String status = "starting";

  public boolean ready() {
    return ready;
  }

  public String status() {
    return status;
  }

  public void markReady() {
    status = "ready";
    ready = true;
  }

  public void markStopping() {
    ready = false;
    status = "stopping";
  }
}
