// kube-apiserver's --enable-admission-plugins / --disable-admission-plugins over skiff's admission plugins. Names are
// upstream's registered plugin names; an unknown name is refused at start-up with upstream's message. skiff runs its
// plugins by default (upstream's default-on set for those it implements, and NodeRestriction as k3s and kubeadm
// enable it); disabling a plugin skiff does not implement changes nothing, enabling one is refused.

/** Every admission plugin name kube-apiserver registers (its AllOrderedPlugins). */
export const UPSTREAM_ADMISSION_PLUGINS: readonly string[] = [
  'AlwaysAdmit',
  'NamespaceAutoProvision',
  'NamespaceLifecycle',
  'NamespaceExists',
  'AlwaysPullImages',
  'LimitPodHardAntiAffinityTopology',
  'LimitRanger',
  'ServiceAccount',
  'NodeRestriction',
  'TaintNodesByCondition',
  'AlwaysDeny',
  'ImagePolicyWebhook',
  'EventRateLimit',
  'ExtendedResourceToleration',
  'DefaultStorageClass',
  'StorageObjectInUseProtection',
  'OwnerReferencesPermissionEnforcement',
  'PersistentVolumeClaimResize',
  'RuntimeClass',
  'CertificateApproval',
  'CertificateSigning',
  'ClusterTrustBundleAttest',
  'CertificateSubjectRestriction',
  'DefaultIngressClass',
  'PodTopologyLabels',
  'denyServiceExternalIPs',
  'PodSecurity',
  'Priority',
  'DefaultTolerationSeconds',
  'PodNodeSelector',
  'PodTolerationRestriction',
  'MutatingAdmissionPolicy',
  'ValidatingAdmissionPolicy',
  'MutatingAdmissionWebhook',
  'ValidatingAdmissionWebhook',
  'ResourceQuota',
];

/** The upstream plugins skiff implements (all on unless disabled). */
export const SKIFF_ADMISSION_PLUGINS: readonly string[] = [
  'NamespaceLifecycle',
  'ServiceAccount',
  'NodeRestriction',
  'Priority',
  'DefaultTolerationSeconds',
  'ResourceQuota',
];

export interface AdmissionPluginFlags {
  enable?: readonly string[];
  disable?: readonly string[];
}

/** The flags' problems in upstream's words (AdmissionOptions.Validate), plus enabling a plugin skiff lacks. */
export function admissionFlagErrors(flags: AdmissionPluginFlags): string[] {
  const known = new Set(UPSTREAM_ADMISSION_PLUGINS);
  const errs: string[] = [];
  for (const name of flags.enable ?? []) {
    if (!known.has(name)) errs.push(`enable-admission-plugins plugin "${name}" is unknown`);
    else if (!SKIFF_ADMISSION_PLUGINS.includes(name)) errs.push(`enable-admission-plugins plugin "${name}" is not implemented by skiff`);
  }
  for (const name of flags.disable ?? []) if (!known.has(name)) errs.push(`disable-admission-plugins plugin "${name}" is unknown`);
  const disabled = new Set(flags.disable ?? []);
  const both = [...new Set(flags.enable ?? [])].filter((n) => disabled.has(n)).sort();
  if (both.length) errs.push(`[${both.join(' ')}] in enable-admission-plugins and disable-admission-plugins overlapped`);
  return errs;
}

/** Whether the plugin named `name` runs under these flags (skiff's own non-plugin steps always run). */
export function admissionPluginEnabled(flags: AdmissionPluginFlags, name: string): boolean {
  if (!SKIFF_ADMISSION_PLUGINS.includes(name)) return true;
  return !(flags.disable ?? []).includes(name);
}
