/** NAT gateways of a created VPC. */
export const NatGateways = {
    /** One NAT gateway: cheaper, but private subnets lose the internet if its zone fails. */
    Single: 'single',
    /** One per zone: survives a zone outage. */
    PerAz: 'perAz',
};
/** Where Kong keeps its configuration. */
export const GatewayMode = {
    /** PostgreSQL on RDS. */
    Database: 'database',
    /** No database: the configuration comes from `declarativeConfig`. */
    Dbless: 'dbless',
    /** Kong Konnect is the control plane: the tasks are its data planes, configured from Konnect (`konnect`). */
    Konnect: 'konnect',
};
/** CPU architecture of the Kong tasks (Kong images are multi-architecture). */
export const CpuArchitecture = {
    X86_64: 'X86_64',
    /** Graviton. */
    ARM64: 'ARM64',
};
/** S3 Object Lock retention mode. */
export const ObjectLockMode = {
    /** Users with s3:BypassGovernanceRetention may still delete versions. */
    Governance: 'GOVERNANCE',
    /** Nobody can delete a version before its retention ends, not even the account root. */
    Compliance: 'COMPLIANCE',
};
