/** The package version, sent in identify's agentVersion. Keep in step with package.json. */
export const VERSION = '0.1.0'
