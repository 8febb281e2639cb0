// The few parts of a Pod object the core reads; every field optional, as on the wire.

export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string> | null;
    annotations?: Record<string, string> | null;
    /** The owning Job, for the shard count of an Indexed Job's pod. */
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean | null }> | null;
  } | null;
  spec?: {
    volumes?: Array<{ name?: string; persistentVolumeClaim?: { claimName?: string } | null }> | null;
  } | null;
}
