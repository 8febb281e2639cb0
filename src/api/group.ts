// The API group and version of Locus's own resources (Dataset, NodeCache): the one definition the
// schemas, the generated CRDs and the Kubernetes client's resource table all read.
export const GROUP = 'locus.dev';
export const VERSION = 'v1alpha1';
/** As objects carry it in `apiVersion`. */
export const API_VERSION = `${GROUP}/${VERSION}`;
