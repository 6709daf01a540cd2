package dev.telemetry.gateway.admin;

/**
 * Liveness and readiness as the admin API reports them. Ready means every receiver is bound and every exporter has
 * started; it turns false again as soon as shutdown begins, so load balancers stop sending before listeners close.
 */
public final class Health {
  private volatile boolean ready;
  private volatile String status = "starting";
  private volatile java.util.function.BooleanSupplier quorum = () -> true;

  /** Ready, and (in a cluster) on a ring with at least {@code cluster.min_members} members. */
  public boolean ready() {
    return ready && quorum.getAsBoolean();
  }

  public String status() {
    return ready && !quorum.getAsBoolean() ? "no_quorum" : status;
  }

  /** In a cluster: readiness also needs {@code quorum} (a member cut off from the majority is not ready). */
  public void requireQuorum(java.util.function.BooleanSupplier quorum) {
    this.quorum = quorum;
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
