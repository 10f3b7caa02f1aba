#!/usr/bin/env python3
"""Writes export.json: a small export written by hand for the independent oracle (every cleaning
rule, several agents, an agent known only by e-mail, a customer who comes back, unanswered turns,
a chat across midnight in Nairobi, a quiet day). Run once; the JSON is what is committed and read."""
import json

def c(t, text, **kw):
    return {"MESSAGE_CONTENT": text, "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": t, **kw}

def a(t, text, agent=None, email=None, **kw):
    return {"MESSAGE_CONTENT": text, "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": t,
            "AGENT_USERNAME": agent, "AGENT_EMAIL": email, **kw}

chats = {
    "c01": [c("2025-08-12T10:00:00.000Z", "I paid for tokens but I have not received them"),
            a("2025-08-12T10:05:00.000Z", "Your token is 1234 5678 9012 3456 7890", "amina"),
            c("2025-08-12T10:07:00.000Z", "Imeingia, asante sana!")],
    "c02": [c("2025-08-12T08:00:00.000Z", "There is no power in Kasarani since morning"),
            a("2025-08-12T08:30:00.000Z", "Kindly share your meter number", "brian"),
            c("2025-08-12T08:35:00.000Z", "12345678901")],
    "c03": [c("2025-08-12T12:00:00.000Z", "My bill is too high this month"),
            a("2025-08-12T12:10:00.000Z", "Kindly note your bill is based on the actual reading taken on 5th August", None, "felix@care.example"),
            c("2025-08-14T09:00:00.000Z", "Any update on my bill?")],
    "c04": [c("2025-08-12T07:00:00.000Z", "Hi"),
            a("2025-08-12T07:00:05.000Z", "Welcome! Dial *977# for self service")],
    "c05": [c("2025-08-12T11:00:00.000Z", "Blackout for 3 days now, you are useless!"),
            a("2025-08-12T11:45:00.000Z", "We apologise, your complaint has been logged under reference number 123456", "amina")],
    "c06": [c("2025-08-12T15:00:00.000Z", "How do I apply for a new connection?")],
    "c07": [{"MESSAGE_CONTENT": "no direction", "SOCIAL_CREATE_TIME": "2025-08-12T09:00:00.000Z"},
            c("2025-08-12T09:00:30.000Z", "wrong case", DIRECTION="TO_COMPANY"),
            c("yesterday", "bad time"),
            c("2025-08-12T09:01:00.000Z", "   "),
            c("2025-08-12T09:02:00.000Z", "My meter is showing an error", UNIQUE_POST_ID="p71"),
            c("2025-08-12T09:02:00.000Z", "My meter is showing an error", UNIQUE_POST_ID="p71"),
            a("2025-08-12T09:12:00.000Z", "Kindly enter the KCT codes 1111 2222 3333 4444 5555 and 6666 7777 8888 9999 0000 on your meter", "brian"),
            a("2025-08-12T09:12:00.000Z", "Kindly enter the KCT codes 1111 2222 3333 4444 5555 and 6666 7777 8888 9999 0000 on your meter", "brian"),
            c("2025-08-12T09:20:00.000Z", "ok")],
    "c08": [c("2025-08-12T22:30:00.000Z", "Can I pay my bill through M-Pesa?"),
            a("2025-08-12T22:40:00.000Z", "Yes, use paybill number 888880 and your account number as the account", None, "felix@care.example")],
    "c09": [a("2025-08-12T09:00:00.000Z", "Hello, we are checking on the outage you reported yesterday", "amina"),
            c("2025-08-12T09:30:00.000Z", "Power is back now, thanks")],
    "c10": [c("2025-08-12T14:00:00.000Z", "Token haijaingia"),
            c("2025-08-12T14:02:00.000Z", "Nimelipa 500"),
            a("2025-08-12T14:10:00.000Z", "Kindly share the M-Pesa message", "brian"),
            c("2025-08-12T14:12:00.000Z", "QWE123 confirmed Ksh500 paid to 888880"),
            a("2025-08-12T14:30:00.000Z", "Here is your token: 5521 0093 4412 8876 1204", "amina")],
    "c11": [a("2025-08-12T16:00:00.000Z", "Dial *977# to check your balance"),
            c("2025-08-12T16:01:00.000Z", None)],
    "c12": "not an array",
    "c13": [c("2025-08-15T06:00:00.000Z", "Hello"),
            c("2025-08-15T06:01:00.000Z", "Is there a scheduled power interruption in Ruaka today?"),
            a("2025-08-15T06:20:00.000Z", "Yes, there is planned maintenance in Ruaka from 9 am to 5 pm today", "brian")],
    "c14": [c("2025-08-12T17:00:00.000Z", "No power since yesterday evening"),
            a("2025-08-12T17:30:00.000Z", "Power has been restored in your area", "amina"),
            c("2025-08-12T17:40:00.000Z", "It is still off")],
}
with open("export.json", "w") as f:
    json.dump(chats, f, indent=1)
    f.write("\n")
