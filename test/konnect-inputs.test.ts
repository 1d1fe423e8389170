import { describe, expect, it } from '@jest/globals'

import { controlPlaneFiles } from '../actions/engine/dump.js'
import { konnectAddress } from '../actions/engine/konnect/address.js'

describe('konnectAddress', () => {
  it("is deck's default region, us, when nothing is given", () => {
    expect(konnectAddress(undefined, undefined)).toBe('https://us.api.konghq.com')
  })

  it("takes a region of the Control Planes API's servers, in any case", () => {
    expect(konnectAddress('EU', undefined)).toBe('https://eu.api.konghq.com')
    expect(konnectAddress('sg', undefined)).toBe('https://sg.api.konghq.com')
  })

  it('refuses an unknown region, naming the regions', () => {
    expect(() => konnectAddress('mars', undefined)).toThrow(
      /"mars" is not a Konnect region: use one of us, eu, au, me, in, sg/,
    )
  })

  it('takes an address instead, and refuses both at once or credentials in it', () => {
    expect(konnectAddress(undefined, 'https://konnect.internal/')).toBe('https://konnect.internal')
    expect(() => konnectAddress('eu', 'https://eu.api.konghq.com')).toThrow(/exclude each other/)
    expect(() => konnectAddress(undefined, 'https://user:pw@eu.api.konghq.com')).toThrow(
      /must not contain credentials/,
    )
  })
})

describe('controlPlaneFiles', () => {
  it('keeps safe names and turns the others into file names', () => {
    expect([...controlPlaneFiles(['prod', 'Test Control Plane', 'team/a', '..x'])]).toEqual([
      ['prod', 'prod'],
      ['Test Control Plane', 'Test-Control-Plane'],
      ['team/a', 'team-a'],
      ['..x', 'x'],
    ])
  })

  it('refuses two control planes that would share a file', () => {
    expect(() => controlPlaneFiles(['Team A', 'team-a'])).toThrow(
      /control planes "Team A" and "team-a" would be dumped into one file/,
    )
  })

  it('refuses a name that leaves no file name', () => {
    expect(() => controlPlaneFiles(['///'])).toThrow(/gives no usable file name/)
  })
})
