// What a pod admit handler answers (upstream's lifecycle.PodAdmitResult).
export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };
